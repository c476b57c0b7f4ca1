package io.aryabhatta.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.knowledge.KnowledgeTool;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolService;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * What a run's loop reads of the workspace before its first model call: the agent's tools and its
 * provider's endpoint (with the provider's secrets). For a run that its creation starts in this
 * process the tools are {@linkplain #readToolsNow read before} its transaction and the provider
 * while it commits, so that the loop does not wait for those reads after the commit.
 */
public final class RunSetup {
  private static final Executor AHEAD = task -> Thread.ofVirtual().name("run-setup").start(task);

  private final ToolService tools;
  private final ProviderService providers;
  private final ObjectMapper mapper;

  public RunSetup(ToolService tools, ProviderService providers, ObjectMapper mapper) {
    this.tools = tools;
    this.providers = providers;
    this.mapper = mapper;
  }

  /**
   * The agent's tools by name, in the agent's order, then its knowledge search if it has knowledge
   * bases, then the agents it may call.
   */
  Map<String, ToolDefinition> tools(String workspaceId, AgentVersion agent) {
    Map<String, ToolDefinition> byName = new LinkedHashMap<>();
    tools.resolve(workspaceId, agent.tools()).forEach(t -> byName.put(t.name(), t));
    return SubAgents.withAgents(KnowledgeTool.withKnowledge(byName, agent, mapper), agent, mapper);
  }

  ModelEndpoint endpoint(String workspaceId, AgentVersion agent) {
    return providers.endpoint(workspaceId, agent.model().provider());
  }

  /**
   * Reads the agent's tools on this thread (no query when all are built in) and starts the
   * provider's read on a thread of its own: a run's creation needs the tools before its
   * transaction begins, since a transaction must not wait for reads that need connections of
   * their own.
   */
  public Ahead readToolsNow(String workspaceId, AgentVersion agent) {
    return read(workspaceId, agent, Runnable::run);
  }

  private Ahead read(String workspaceId, AgentVersion agent, Executor toolsReadOn) {
    CompletableFuture<ModelEndpoint> endpoint = CompletableFuture.supplyAsync(() -> endpoint(workspaceId, agent), AHEAD);
    return new Ahead(agent, CompletableFuture.supplyAsync(() -> tools(workspaceId, agent), toolsReadOn), endpoint);
  }

  /** Reads under way for one agent version; each result throws what its read threw. */
  public static final class Ahead {
    private final AgentVersion agent;
    private final CompletableFuture<Map<String, ToolDefinition>> tools;
    private final CompletableFuture<ModelEndpoint> endpoint;

    private Ahead(AgentVersion agent, CompletableFuture<Map<String, ToolDefinition>> tools,
        CompletableFuture<ModelEndpoint> endpoint) {
      this.agent = agent;
      this.tools = tools;
      this.endpoint = endpoint;
    }

    /** Whether these reads are those of {@code agent} as the run uses it (not, say, with overrides). */
    boolean isFor(AgentVersion agent) {
      return this.agent == agent;
    }

    public Map<String, ToolDefinition> tools() {
      return result(tools);
    }

    ModelEndpoint endpoint() {
      return result(endpoint);
    }

    private static <T> T result(CompletableFuture<T> read) {
      try {
        return read.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof RuntimeException cause) {
          throw cause;
        }
        if (e.getCause() instanceof Error error) {
          throw error;
        }
        throw e;
      }
    }
  }
}
