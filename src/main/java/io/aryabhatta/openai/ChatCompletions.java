package io.aryabhatta.openai;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.AgentView;

import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.workspaces.Caller;
import java.time.Duration;
import java.util.List;

/**
 * The OpenAI-compatible API's work: agents listed as models, and a chat completion as a run of the
 * named agent on the client's messages, with the agent's tools executed by the platform.
 */
public final class ChatCompletions {

  private final AgentService agents;
  private final RunService runs;
  private final ObjectMapper mapper;
  private final Duration maxWait;

  /**
   * @param maxWait how long a completion waits for its run; after that the client gets an error and
   *     the run goes on
   */
  public ChatCompletions(AgentService agents, RunService runs, ObjectMapper mapper,
      Duration maxWait) {
    this.agents = agents;
    this.runs = runs;
    this.mapper = mapper;
    this.maxWait = maxWait;
  }

  Duration maxWait() {
    return maxWait;
  }

  /** The workspace's live agents as models, oldest first. */
  List<OpenAiObjects.Model> models(String workspaceId) {
    return agents.all(workspaceId).stream()
        .map(a -> new OpenAiObjects.Model(a.name(), a.createdAt().getEpochSecond())).toList();
  }

  OpenAiObjects.Model model(String workspaceId, String name) {
    AgentVersion agent = agent(workspaceId, name);
    return new OpenAiObjects.Model(agent.name(), agent.createdAt().getEpochSecond());
  }

  /** Starts the run; an unknown agent name is a 404 {@code model_not_found}. */
  Run start(Caller caller, CompletionRequest request) {
    AgentVersion agent = agent(caller.workspaceId(), request.model());
    return runs.startRunOnMessages(caller, agent.agentId(), request.earlier(), request.systemPrompt(),
        request.input(), List.of(), mapper.createObjectNode().put("source", "openai"), "messages",
        CallbackMetadata.callback(request.callbackUrl()), RunService.Alongside.NOTHING);
  }

  /** Waits until the run ends or needs a person, at most {@link #maxWait}; returns it as it then stands. */
  Run settle(Caller caller, Run run) throws InterruptedException {
    return runs.awaitSettled(caller, run, maxWait);
  }

  static String completionId(Run run) {
    return "chatcmpl-" + run.id();
  }

  private AgentVersion agent(String workspaceId, String name) {
    return agents.latestByName(workspaceId, name).orElseThrow(() -> new DomainException.ModelNotFound(name));
  }
}
