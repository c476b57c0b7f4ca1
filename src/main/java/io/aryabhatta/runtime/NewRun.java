package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.runtime.RunStore.RunState;
import java.util.List;

/**
 * What the creation of a run already knows, handed to the loop that starts it in the same process
 * so that it need not read it back: the run's row as inserted, its agent version, when the
 * conversation is new its messages ({@code null}: read them), the workspace setup read ahead for it
 * ({@code null}: none), and the first model call if the creation opened it ({@code null}: not).
 */
record NewRun(RunState state, AgentVersion agent, List<ChatMessage> history, RunSetup.Ahead ahead,
    OpenedModelCall firstCall) {

  /** A model call whose step, request and the run's start have committed, but which is not made yet. */
  record OpenedModelCall(int index, ChatRequest request, JsonNode body) {}

  NewRun withUnknownHistory() {
    return new NewRun(state, agent, null, ahead, firstCall);
  }

  NewRun withAhead(RunSetup.Ahead ahead) {
    return new NewRun(state, agent, history, ahead, firstCall);
  }

  NewRun withFirstCall(OpenedModelCall firstCall) {
    return new NewRun(state, agent, history, ahead, firstCall);
  }
}
