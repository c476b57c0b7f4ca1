package io.aryabhatta.model;

import java.util.List;

/**
 * What the agent loop asks of a model. Null parameters are not sent.
 *
 * @param toolChoice "auto", "none", "required", or null to leave it to the provider
 */
public record ChatRequest(String model, List<ChatMessage> messages, List<ToolSpec> tools, String toolChoice,
    Double temperature, Double topP, Integer maxTokens, Long seed, boolean stream) {
  public ChatRequest {
    messages = List.copyOf(messages);
    tools = tools == null ? List.of() : List.copyOf(tools);
  }
}
