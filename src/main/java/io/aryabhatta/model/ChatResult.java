package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A model's answer, the same for streamed and non-streamed calls.
 *
 * @param content the text answer; null when the model only called tools
 * @param reasoning reasoning text some providers send separately ({@code reasoning_content}), or null
 * @param toolCalls the tool calls, in order (tool calls written as text by open models included)
 * @param finishReason as reported, e.g. stop, tool_calls, length
 * @param usage as reported, or null when the provider sent none
 * @param request the request body exactly as sent
 * @param response the response as received: the JSON body, or for a stream the list of chunks
 * @param attempts every HTTP attempt, the successful one last
 */
public record ChatResult(String content, String reasoning, List<ToolCall> toolCalls, String finishReason,
    Usage usage, JsonNode request, JsonNode response, List<Attempt> attempts) {
  public ChatResult {
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    attempts = attempts == null ? List.of() : List.copyOf(attempts);
  }
}
