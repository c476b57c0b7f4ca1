package io.aryabhatta.tracing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.ToolCall;

/**
 * Chat messages as the generative-AI span conventions write them (a role and its parts: text,
 * tool calls, tool results), for {@code gen_ai.input.messages} and {@code gen_ai.output.messages}.
 * Only used with content on.
 */
final class ContentMessages {
  private final ObjectMapper mapper;

  ContentMessages(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** The request's OpenAI-style {@code messages}. */
  String input(JsonNode request) {
    ArrayNode out = mapper.createArrayNode();
    for (JsonNode message : request.path("messages")) {
      String role = message.path("role").asText();
      ObjectNode converted = out.addObject().put("role", role);
      ArrayNode parts = converted.putArray("parts");
      if (role.equals("tool")) {
        parts.addObject().put("type", "tool_call_response").put("id", message.path("tool_call_id").asText())
            .set("response", message.path("content"));
        continue;
      }
      JsonNode content = message.path("content");
      if (content.isTextual()) {
        parts.addObject().put("type", "text").put("content", content.asText());
      } else if (!content.isMissingNode() && !content.isNull()) {
        parts.addObject().put("type", "text").put("content", content.toString());
      }
      for (JsonNode call : message.path("tool_calls")) {
        toolCall(parts, call.path("id").asText(), call.at("/function/name").asText(),
            call.at("/function/arguments").asText());
      }
    }
    return out.toString();
  }

  String output(ChatResult result) {
    ArrayNode out = mapper.createArrayNode();
    ObjectNode message = out.addObject().put("role", "assistant");
    ArrayNode parts = message.putArray("parts");
    if (result.content() != null) {
      parts.addObject().put("type", "text").put("content", result.content());
    }
    for (ToolCall call : result.toolCalls()) {
      toolCall(parts, call.id(), call.name(), call.arguments());
    }
    if (result.finishReason() != null) {
      message.put("finish_reason", result.finishReason());
    }
    return out.toString();
  }

  private void toolCall(ArrayNode parts, String id, String name, String arguments) {
    ObjectNode part = parts.addObject().put("type", "tool_call").put("id", id).put("name", name);
    try {
      part.set("arguments", arguments == null || arguments.isBlank() ? mapper.createObjectNode() : mapper.readTree(arguments));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      part.put("arguments", arguments);
    }
  }
}
