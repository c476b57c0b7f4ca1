package io.aryabhatta.runtime;

import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.runtime.RunStore.RunState;
import java.util.List;

/**
 * What the creation of a run already knows, handed to the loop that starts it in the same process
 * so that it need not read it back: the run's row as inserted, its agent version, and, when the
 * conversation is new, its messages ({@code null}: read them).
 */
record NewRun(RunState state, AgentVersion agent, List<ChatMessage> history) {
  NewRun withUnknownHistory() {
    return new NewRun(state, agent, null);
  }
}
