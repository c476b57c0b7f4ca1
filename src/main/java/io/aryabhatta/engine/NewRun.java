package io.aryabhatta.engine;

import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.runs.RunStore.RunState;
import io.aryabhatta.tracing.RunSpan;
import java.util.List;

/**
 * What the creation of a run already knows, handed to the loop that starts it in the same process
 * so that it need not read it back: the run's row as inserted, its agent version, the
 * conversation's messages ({@code null}: not known yet), the workspace setup read for it
 * ({@code null}: none), and the first model call its creation opened when it began the run
 * ({@link AgentLoop#beginWithinCreation}), with the span of the run's execution that began then.
 */
public record NewRun(RunState state, AgentVersion agent, List<ChatMessage> history, RunSetup.Ahead ahead,
    AgentLoop.OpenedModelCall firstCall, RunSpan span) {

  /** A run as its creation inserts it, with the conversation's messages if they are known. */
  public static NewRun inserted(RunState state, AgentVersion agent, List<ChatMessage> history) {
    return new NewRun(state, agent, history, null, null, null);
  }

  public NewRun withUnknownHistory() {
    return new NewRun(state, agent, null, ahead, firstCall, span);
  }

  public NewRun withHistory(List<ChatMessage> messages) {
    return new NewRun(state, agent, messages, ahead, firstCall, span);
  }

  public NewRun withAhead(RunSetup.Ahead ahead) {
    return new NewRun(state, agent, history, ahead, firstCall, span);
  }

  NewRun begun(AgentLoop.OpenedModelCall call, RunSpan span) {
    return new NewRun(state, agent, history, ahead, call, span);
  }
}
