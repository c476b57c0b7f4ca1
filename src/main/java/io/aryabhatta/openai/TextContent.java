package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.errors.FieldError;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A message's content as OpenAI clients send it: a string, or an array of text parts (joined by newlines). */
final class TextContent {
  private TextContent() {}

  /**
   * The text, null when absent; images, audio and files are refused at {@code at}.
   *
   * @param partTypes the part types that carry text ({@code text} in chat completions,
   *     {@code input_text} and {@code output_text} in the Responses API)
   */
  static String of(JsonNode node, String at, Set<String> partTypes, List<FieldError> errors) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (!node.isArray()) {
      errors.add(new FieldError(at, "must be a string or an array of text parts"));
      return null;
    }
    List<String> parts = new ArrayList<>();
    for (int j = 0; j < node.size(); j++) {
      JsonNode part = node.get(j);
      if (!partTypes.contains(part.path("type").asText()) || !part.path("text").isTextual()) {
        errors.add(new FieldError(at + "[" + j + "]", "only text parts (" + String.join(", ", partTypes.stream()
            .sorted().toList()) + ") are supported"));
        continue;
      }
      parts.add(part.get("text").asText());
    }
    return String.join("\n", parts);
  }
}
