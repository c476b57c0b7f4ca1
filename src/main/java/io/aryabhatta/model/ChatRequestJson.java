package io.aryabhatta.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/** Writes a {@link ChatRequest} as an OpenAI chat-completions request body. */
final class ChatRequestJson {
  private static final Set<String> TOOL_CHOICE_KEYWORDS = Set.of("auto", "none", "required");

  private final ObjectMapper mapper;

  ChatRequestJson(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  ObjectNode write(ChatRequest request) {
    // model first: the HF router picks the provider from a prefix of the body.
    ObjectNode body = mapper.createObjectNode();
    body.put("model", request.model());
    ArrayNode messages = body.putArray("messages");
    request.messages().forEach(message -> messages.add(message(message)));
    if (!request.tools().isEmpty()) {
      ArrayNode tools = body.putArray("tools");
      request.tools().forEach(tool -> tools.add(tool(tool)));
    }
    if (request.toolChoice() != null) {
      putToolChoice(body, request.toolChoice());
    }
    if (request.temperature() != null) {
      body.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      body.put("top_p", request.topP());
    }
    if (request.maxTokens() != null) {
      body.put("max_tokens", request.maxTokens());
    }
    if (request.seed() != null) {
      body.put("seed", request.seed());
    }
    body.put("stream", request.stream());
    if (request.stream()) {
      body.putObject("stream_options").put("include_usage", true);
    }
    return body;
  }

  private ObjectNode message(ChatMessage message) {
    ObjectNode json = mapper.createObjectNode();
    json.put("role", message.role());
    if ("tool".equals(message.role())) {
      json.put("tool_call_id", message.toolCallId());
      json.put("content", message.content() == null ? "" : message.content());
      return json;
    }
    if (message.toolCalls().isEmpty()) {
      // OpenAI rejects content null on a message without tool calls.
      json.put("content", message.content() == null ? "" : message.content());
      return json;
    }
    json.put("content", message.content());
    ArrayNode calls = json.putArray("tool_calls");
    for (ToolCall call : message.toolCalls()) {
      ObjectNode callJson = calls.addObject();
      callJson.put("id", call.id());
      callJson.put("type", "function");
      ObjectNode function = callJson.putObject("function");
      function.put("name", call.name());
      function.put("arguments", call.arguments() == null ? "{}" : call.arguments());
    }
    return json;
  }

  private ObjectNode tool(ToolSpec spec) {
    ObjectNode json = mapper.createObjectNode();
    json.put("type", "function");
    ObjectNode function = json.putObject("function");
    function.put("name", spec.name());
    if (spec.description() != null) {
      function.put("description", spec.description());
    }
    if (spec.parameters() != null) {
      function.set("parameters", spec.parameters());
    } else {
      function.putObject("parameters").put("type", "object");
    }
    return json;
  }

  /** "auto", "none" and "required" are sent as is; any other value names the one tool to call. */
  private static void putToolChoice(ObjectNode body, String toolChoice) {
    if (TOOL_CHOICE_KEYWORDS.contains(toolChoice)) {
      body.put("tool_choice", toolChoice);
      return;
    }
    ObjectNode choice = body.putObject("tool_choice");
    choice.put("type", "function");
    choice.putObject("function").put("name", toolChoice);
  }
}
