package io.aryabhatta.engine;

import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ToolCall;
import java.util.ArrayList;
import java.util.List;

/**
 * Fits a conversation into an agent's {@code context_window}. Messages are grouped into turns (a
 * user message and everything after it up to the next user message) and the oldest turns are
 * dropped whole, so a tool call is never separated from its result. The system prompt and the
 * latest turn always stay.
 */
public final class ContextWindow {
  private static final int TOKENS_PER_MESSAGE = 4;

  private ContextWindow() {}

  /** A rough token estimate (four characters a token), the same for every provider. */
  public static int estimate(ChatMessage message) {
    int chars = message.content() == null ? 0 : message.content().length();
    for (ToolCall call : message.toolCalls()) {
      chars += call.name().length() + (call.arguments() == null ? 0 : call.arguments().length()) + 16;
    }
    return TOKENS_PER_MESSAGE + (chars + 3) / 4;
  }

  public static List<ChatMessage> fit(ChatMessage system, List<ChatMessage> history, int maxTokens) {
    List<List<ChatMessage>> turns = turns(history);
    int budget = maxTokens - estimate(system);
    int start = turns.size();
    int used = 0;
    while (start > 0) {
      int cost = turns.get(start - 1).stream().mapToInt(ContextWindow::estimate).sum();
      if (start < turns.size() && used + cost > budget) {
        break;
      }
      used += cost;
      start--;
    }
    List<ChatMessage> fitted = new ArrayList<>();
    fitted.add(system);
    turns.subList(start, turns.size()).forEach(fitted::addAll);
    return fitted;
  }

  private static List<List<ChatMessage>> turns(List<ChatMessage> history) {
    List<List<ChatMessage>> turns = new ArrayList<>();
    for (ChatMessage message : history) {
      if (turns.isEmpty() || message.role().equals("user")) {
        turns.add(new ArrayList<>());
      }
      turns.get(turns.size() - 1).add(message);
    }
    return turns;
  }
}
