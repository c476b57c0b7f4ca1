package io.aryabhatta.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.Usage;
import io.aryabhatta.runs.PromptTemplate;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.tools.ToolDefinition;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Agents calling agents. An agent's {@code agents} are offered to its model as tools of kind
 * {@value #KIND}, after its other tools; a call starts a child run of the named agent, linked to
 * the parent's step, in the transaction that makes the parent wait ({@code waiting}: no node holds
 * it). The transaction that ends the child records its outcome as the call's result and, once no
 * call of the parent waits any more, queues the parent for any node to take.
 */
public final class SubAgents {
  public static final String KIND = "agent";
  /** A run at this depth (its root is at 0) calls no further agent. */
  public static final int MAX_DEPTH = 3;
  /** The {@code required_action} of a run whose children wait for a person (answered on each child). */
  public static final String CHILD_REQUIRES_ACTION = "child_requires_action";

  private final Jdbi jdbi;
  private final ObjectMapper mapper;
  private final RunStore store;
  private final RunEventLog events;
  private final AgentService agents;

  public SubAgents(Jdbi jdbi, ObjectMapper mapper, RunStore store, RunEventLog events, AgentService agents) {
    this.jdbi = jdbi;
    this.mapper = mapper;
    this.store = store;
    this.events = events;
    this.agents = agents;
  }

  // ---- the tools offered ----

  public static ToolDefinition definition(String agentName, ObjectMapper mapper) {
    ObjectNode parameters = mapper.createObjectNode();
    parameters.put("type", "object");
    parameters.putObject("properties").putObject("input").put("type", "string")
        .put("description", "what to ask the agent, with everything it needs to know");
    parameters.putArray("required").add("input");
    parameters.put("additionalProperties", false);
    return new ToolDefinition(null, null, agentName, KIND, "Ask the agent '" + agentName
        + "' to work on the input; its final answer is the result.", parameters, null, false, false);
  }

  /** The agent's tools with one tool per agent it may call, last, in the agent's order. */
  public static Map<String, ToolDefinition> withAgents(Map<String, ToolDefinition> tools, AgentVersion agent,
      ObjectMapper mapper) {
    if (agent.agents().isEmpty()) {
      return tools;
    }
    Map<String, ToolDefinition> all = new LinkedHashMap<>(tools);
    agent.agents().forEach(name -> all.put(name, definition(name, mapper)));
    return all;
  }

  // ---- a call starting a child ----

  /** A child run to create: the agent version it pins, its system prompt and its input. */
  record Child(Step call, AgentVersion agent, String systemPrompt, String input, int depth) {}

  /** What a call of a sub-agent is: the child to start, or why it cannot start (the model reads it). */
  record Plan(Child child, String refusal) {}

  /** Decides, before the transaction, what a pending call of a sub-agent starts (reads only). */
  Plan plan(RunStore.RunState parent, Step call, JsonNode arguments) {
    List<Ancestor> chain = ancestry(parent.id());
    int depth = chain.isEmpty() ? 0 : chain.get(0).depth();
    if (depth >= MAX_DEPTH) {
      return new Plan(null, "this run is at depth " + depth + " of nested agents, the most there may be ("
          + MAX_DEPTH + "): it cannot call another agent");
    }
    Optional<AgentVersion> found = agents.latestByName(parent.workspaceId(), call.name());
    if (found.isEmpty()) {
      return new Plan(null, "the agent '" + call.name() + "' does not exist (any more) in this workspace");
    }
    AgentVersion agent = found.get();
    if (chain.stream().anyMatch(a -> a.agentId().equals(agent.agentId()))) {
      return new Plan(null, "the agent '" + call.name() + "' is already working on this task further up "
          + "(a run calling it is among this run's callers): calling it again would be a cycle");
    }
    if (!PromptTemplate.missing(agent.systemPrompt(), Map.of()).isEmpty()) {
      return new Plan(null, "the agent '" + call.name() + "' needs prompt variables, which a call cannot give");
    }
    JsonNode input = arguments.get("input");
    return new Plan(new Child(call, agent, PromptTemplate.fill(agent.systemPrompt(), Map.of()),
        input == null || input.isNull() ? "" : input.asText(), depth + 1), null);
  }

  /**
   * Why today's loop would not start a child for {@code call} of run {@code parent} (the tool
   * error its model would read), or null: for a replay judging a recorded call.
   */
  public String refusal(RunStore.RunState parent, Step call) {
    return plan(parent, call, mapper.createObjectNode()).refusal();
  }

  private record Ancestor(String agentId, int depth) {}

  /** The run and those that called it, nearest first. */
  private List<Ancestor> ancestry(String runId) {
    return jdbi.withHandle(h -> h.createQuery("""
            WITH RECURSIVE chain AS (
                SELECT id, parent_run_id, agent_id, depth, 0 AS up FROM runs WHERE id = :id
                UNION ALL
                SELECT r.id, r.parent_run_id, r.agent_id, r.depth, c.up + 1
                FROM runs r JOIN chain c ON r.id = c.parent_run_id)
            SELECT agent_id, depth FROM chain ORDER BY up""")
        .bind("id", runId).map((rs, c) -> new Ancestor(rs.getString("agent_id"), rs.getInt("depth"))).list());
  }

  /**
   * The id of the child a call starts: derived from the call's idempotency key, so that the
   * creation, made again, finds the same run (and its conversation) instead of a second one.
   */
  static String childRunId(Step call) {
    return UUID.nameUUIDFromBytes(("child-run:" + call.idempotencyKey()).getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static String childConversationId(Step call) {
    return UUID.nameUUIDFromBytes(("child-conversation:" + call.idempotencyKey()).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  /** Creates the child run, queued, in the parent's transaction {@code w}; none if the call made one already. */
  String start(WriteBatch w, RunStore.RunState parent, Child child) {
    String runId = childRunId(child.call());
    String conversationId = childConversationId(child.call());
    w.statement("""
            WITH conversation AS (
                INSERT INTO conversations (id, workspace_id, agent_id, variables, metadata)
                VALUES (:c, :w, :a, '{}', cast(:m AS jsonb))
                ON CONFLICT (id) DO NOTHING RETURNING id),
            child AS (
                INSERT INTO runs (id, workspace_id, conversation_id, agent_id, agent_version, system_prompt, stream,
                                  status, parent_run_id, parent_step, depth)
                SELECT :r, :w, conversation.id, :a, :v, :p, :s, :queued, :parent, :step, :depth FROM conversation
                ON CONFLICT DO NOTHING RETURNING id, conversation_id)
            INSERT INTO messages (conversation_id, seq, run_id, role, content)
            SELECT child.conversation_id, 1, child.id, 'user', :input FROM child""")
        .bind("c", conversationId).bind("w", parent.workspaceId()).bind("a", child.agent().agentId())
        .bind("m", Json.write(mapper, Map.of("parent_run_id", parent.id(), "parent_step", child.call().index())))
        .bind("r", runId).bind("v", child.agent().version()).bind("p", child.systemPrompt()).bind("s", parent.stream())
        .bind("queued", RunStatus.QUEUED).bind("parent", parent.id()).bind("step", child.call().index())
        .bind("depth", child.depth()).bind("input", child.input())
        .execute();
    events.appendEvent(w, runId, "run.created", Map.of("run_id", runId, "conversation_id", conversationId,
        "agent_id", child.agent().agentId(), "agent_version", child.agent().version(), "parent_run_id", parent.id(),
        "parent_step", child.call().index()));
    return runId;
  }

  /** What the parent's model reads when a child did not complete. */
  static String whyNoOutput(RunStatus ended, String childId, JsonNode error) {
    if (ended == RunStatus.CANCELLED) {
      return "the agent's run " + childId + " was cancelled before it answered";
    }
    String why = error == null ? "" : ": " + error.path("code").asText("") + " " + error.path("message").asText("");
    return "the agent's run " + childId + " failed" + why.stripTrailing();
  }
}
