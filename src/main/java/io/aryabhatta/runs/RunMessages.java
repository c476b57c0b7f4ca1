package io.aryabhatta.runs;

import java.util.ArrayList;
import java.util.List;

/**
 * A conversation's messages split around one run: those before the run, and the run's own (its
 * input, each answered model call's assistant message, the tool results).
 */
public record RunMessages(List<Message> before, List<Message> own) {

  public static RunMessages of(List<Message> conversation, String runId) {
    List<Message> before = new ArrayList<>();
    List<Message> own = new ArrayList<>();
    for (Message m : conversation) {
      if (runId.equals(m.runId())) {
        own.add(m);
      } else if (own.isEmpty()) {
        before.add(m);
      }
    }
    return new RunMessages(List.copyOf(before), List.copyOf(own));
  }

  /**
   * The conversation as the loop read it for the model call that the run had answered
   * {@code answered} calls before: everything up to that call's own assistant message. Each
   * answered model call adds exactly one assistant message, and nothing is added while a model
   * call is in flight.
   */
  public List<Message> seenBy(int answered) {
    List<Message> answers = own.stream().filter(m -> m.role().equals("assistant")).toList();
    int cutoff = answered < answers.size() ? answers.get(answered).seq() : Integer.MAX_VALUE;
    List<Message> seen = new ArrayList<>(before);
    own.stream().filter(m -> m.seq() < cutoff).forEach(seen::add);
    return seen;
  }
}
