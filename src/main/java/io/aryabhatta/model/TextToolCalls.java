package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds tool calls that an open model wrote into its text instead of {@code tool_calls}: Hermes /
 * Qwen {@code <tool_call>{"name":…,"arguments":…}</tool_call>} and Llama / Groq
 * {@code <function=name>{…}</function>}. This happens with vLLM or Ollama serving such a model
 * without the matching tool-call parser.
 */
final class TextToolCalls {
  // The closing tag is optional: a model that stops on its end token may never write it.
  private static final Pattern HERMES = Pattern.compile("<tool_call>(.*?)(?:</tool_call>|\\z)", Pattern.DOTALL);
  private static final Pattern FUNCTION_TAG =
      Pattern.compile("<function=([A-Za-z0-9_.\\-]+)>(.*?)</function>", Pattern.DOTALL);

  /** A call found in the text; {@code start}/{@code end} locate it in the text. */
  record Found(String name, String arguments, int start, int end) {}

  /** The text with the calls removed, and the calls in the order they were written. */
  record Extracted(String remainingText, List<Found> calls) {}

  private final ObjectMapper mapper;

  TextToolCalls(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  Extracted extract(String text) {
    if (text == null || (!text.contains("<tool_call>") && !text.contains("<function="))) {
      return new Extracted(text, List.of());
    }
    List<Found> calls = new ArrayList<>();
    Matcher hermes = HERMES.matcher(text);
    while (hermes.find()) {
      Found found = fromHermesJson(hermes.group(1), hermes.start(), hermes.end());
      if (found != null) {
        calls.add(found);
      }
    }
    Matcher function = FUNCTION_TAG.matcher(text);
    while (function.find()) {
      String arguments = function.group(2).strip();
      calls.add(new Found(function.group(1), arguments.isEmpty() ? "{}" : arguments, function.start(),
          function.end()));
    }
    calls.sort(Comparator.comparingInt(Found::start));
    return new Extracted(remove(text, calls), calls);
  }

  private Found fromHermesJson(String inside, int start, int end) {
    JsonNode json;
    try {
      json = mapper.readTree(inside.strip());
    } catch (Exception notJson) {
      return null; // not a call we can trust; the text stays as the model wrote it
    }
    if (json == null || !json.isObject() || !json.path("name").isTextual()) {
      return null;
    }
    JsonNode arguments = json.has("arguments") ? json.get("arguments") : json.get("parameters");
    String argumentsText = arguments == null || arguments.isNull() ? "{}"
        : arguments.isTextual() ? arguments.asText() : arguments.toString();
    return new Found(json.get("name").asText(), argumentsText, start, end);
  }

  private static String remove(String text, List<Found> calls) {
    StringBuilder rest = new StringBuilder();
    int from = 0;
    for (Found call : calls) {
      if (call.start() >= from) {
        rest.append(text, from, call.start());
        from = call.end();
      }
    }
    rest.append(text.substring(from));
    return rest.toString().strip();
  }
}
