package io.aryabhatta.model;

import java.util.List;

/**
 * One message of a chat-completions conversation.
 *
 * @param role system, user, assistant or tool
 * @param content text; null for an assistant message that only calls tools
 * @param toolCalls the assistant's tool calls (empty otherwise)
 * @param toolCallId for a tool message: the call it answers
 * @param name for a tool message: the tool's name
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {
  public ChatMessage {
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content, List.of(), null, null);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content, List.of(), null, null);
  }

  public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
    return new ChatMessage("assistant", content, toolCalls, null, null);
  }

  public static ChatMessage tool(String toolCallId, String name, String content) {
    return new ChatMessage("tool", content, List.of(), toolCallId, name);
  }
}
