package io.aryabhatta.engine;

import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.runs.RunStore.RunState;
import java.util.List;

/**
 * What the creation of a run already knows, handed to the loop that starts it in the same process
 * so that it need not read it back: the run's row as inserted, its agent version, when the
 * conversation is new its messages ({@code null}: read them), and the workspace setup read ahead
 * for it ({@code null}: none). The loop starts it as it starts every run.
 */
public record NewRun(RunState state, AgentVersion agent, List<ChatMessage> history, RunSetup.Ahead ahead) {

  public NewRun withUnknownHistory() {
    return new NewRun(state, agent, null, ahead);
  }

  public NewRun withAhead(RunSetup.Ahead ahead) {
    return new NewRun(state, agent, history, ahead);
  }
}
