package io.aryabhatta.replay;

import io.aryabhatta.engine.RunEventLog;
import io.aryabhatta.engine.RunScheduler;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Conversation;
import io.aryabhatta.runs.RunMessages;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.PromptTemplate;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.callbacks.CallbackUrls;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.workspaces.Caller;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Forks an ended run: a new run, in a new conversation, that starts from a copy of the original's
 * journal up to (not including) one of its model calls and continues live from there, asking the
 * model again. The fork may override parts of the agent's configuration (to try a prompt change
 * on a real conversation); the agent itself is not changed.
 *
 * <p>The fork pins the original run's agent version; its overrides are stored on the run as a
 * JSON Merge Patch over that version and applied whenever the loop loads the run. A
 * {@code system_prompt} override is templated with the conversation's variables and stored as the
 * run's system prompt, like any run's. The copied steps keep their index and are marked with the
 * run they were copied from; since the loop resumes any run from its journal, the fork simply
 * continues.
 */
public final class RunFork {
  /** What a fork may override: the parts of an agent's configuration that shape its runs. */
  public static final Set<String> OVERRIDABLE =
      Set.of("system_prompt", "model", "tools", "tool_approval", "max_steps", "context_window", "knowledge",
      "memory_blocks");

  private final Jdbi jdbi;
  private final RunStore store;
  private final RunEventLog events;
  private final AgentService agents;
  private final RunScheduler scheduler;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final CallbackUrls callbackUrls;

  public RunFork(Jdbi jdbi, RunStore store, RunEventLog events, AgentService agents, RunScheduler scheduler,
      AuditLog audit, Ids ids, ObjectMapper mapper, CallbackUrls callbackUrls) {
    this.callbackUrls = callbackUrls;
    this.jdbi = jdbi;
    this.store = store;
    this.events = events;
    this.agents = agents;
    this.scheduler = scheduler;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
  }

  /**
   * Starts a fork of an ended run from its model call {@code fromStep} and queues it.
   *
   * @param overrides a JSON object of {@link #OVERRIDABLE} fields, or null
   * @return the new run (its {@code conversation_id} is the new conversation)
   * @throws DomainException.NotFound for an unknown run or another workspace's
   * @throws DomainException.Conflict when the run has not ended
   * @throws DomainException.ValidationFailed for a step that is not a model call, or invalid overrides
   */
  public Run fork(Caller caller, String runId, Integer fromStep, JsonNode overrides) {
    return fork(caller, runId, fromStep, overrides, null);
  }

  /**
   * The same, told how the fork ended at {@code callbackUrl} (null: not told; a fork does not take
   * the original's), checked as a new run's.
   */
  public Run fork(Caller caller, String runId, Integer fromStep, JsonNode overrides, String callbackUrl) {
    String callback = callbackUrls.checked(callbackUrl);
    Run original = store.run(caller.workspaceId(), runId).orElseThrow(() -> DomainException.NotFound.of("run", runId));
    if (!original.status().isEnded()) {
      throw new DomainException.Conflict("the run has not ended (status " + original.status()
          + "); only a completed, failed or cancelled run can be forked");
    }
    JsonNode patch = checkedOverrides(overrides);
    List<Step> steps = store.steps(runId);
    checkFromStep(steps, fromStep);
    AgentVersion pinned = agents.version(caller.workspaceId(), original.agentId(), original.agentVersion());
    AgentVersion effective = patch == null ? pinned : effective(pinned, patch);
    Conversation conversation = store.conversation(caller.workspaceId(), original.conversationId()).orElseThrow();

    String forkId = jdbi.inTransaction(h -> {
      RunStore.RunState state = store.state(h, runId);
      String systemPrompt = patch != null && patch.has("system_prompt")
          ? templated(effective.systemPrompt(), conversation.variables())
          : state.systemPrompt();
      String id = ids.next();
      String conversationId = copyConversation(h, caller, conversation, original, steps, fromStep, id);
      int copiedModelCalls = (int) steps.stream().filter(s -> s.index() < fromStep && !s.isToolCall()).count();
      h.createUpdate("""
              INSERT INTO runs (id, workspace_id, conversation_id, agent_id, agent_version, system_prompt, stream,
                                status, steps_count, forked_from_run_id, forked_from_step, agent_overrides,
                                client_tools, memory_key, callback_url)
              VALUES (:id, :w, :c, :a, :v, :p, :s, :queued, :steps, :from, :step, cast(:overrides AS jsonb),
                      (SELECT client_tools FROM runs WHERE id = :from), (SELECT memory_key FROM runs WHERE id = :from),
                      :callback)""")
          .bind("queued", RunStatus.QUEUED).bind("id", id).bind("w", caller.workspaceId()).bind("c", conversationId)
          .bind("a", original.agentId()).bind("v", original.agentVersion()).bind("p", systemPrompt)
          .bind("s", state.stream()).bind("steps", copiedModelCalls).bind("from", runId).bind("step", fromStep)
          .bind("overrides", patch == null ? null : Json.write(mapper, patch)).bind("callback", callback)
          .execute();
      copySteps(h, runId, id, fromStep);
      Map<String, Object> origin = new LinkedHashMap<>();
      origin.put("run_id", id);
      origin.put("conversation_id", conversationId);
      origin.put("agent_id", original.agentId());
      origin.put("agent_version", original.agentVersion());
      origin.put("forked_from_run_id", runId);
      origin.put("from_step", fromStep);
      events.appendEvent(WriteBatch.immediate(h), id, "run.created", origin);
      audit.record(h, caller, "run.forked", "run", id, Map.of("forked_from_run_id", runId, "from_step", fromStep,
          "conversation_id", conversationId, "overridden", patch == null ? List.of() : fieldNames(patch)));
      return id;
    });
    scheduler.submit(forkId);
    return store.run(caller.workspaceId(), forkId).orElseThrow();
  }

  // ---- checks ----

  private JsonNode checkedOverrides(JsonNode overrides) {
    if (overrides == null || overrides.isNull()) {
      return null;
    }
    if (!overrides.isObject()) {
      throw new DomainException.ValidationFailed("agent_overrides", "must be an object");
    }
    List<FieldError> errors = new ArrayList<>();
    overrides.fieldNames().forEachRemaining(name -> {
      if (!OVERRIDABLE.contains(name)) {
        errors.add(new FieldError("agent_overrides." + name,
            "cannot be overridden; a fork may override " + String.join(", ", OVERRIDABLE.stream().sorted().toList())));
      }
    });
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return overrides.isEmpty() ? null : overrides;
  }

  private static void checkFromStep(List<Step> steps, Integer fromStep) {
    List<Integer> modelCalls = steps.stream().filter(s -> !s.isToolCall()).map(Step::index).toList();
    if (fromStep == null || !modelCalls.contains(fromStep)) {
      throw new DomainException.ValidationFailed("from_step", "must be the index of one of the run's model calls"
          + " (llm_call steps), where the fork asks the model again: one of " + modelCalls);
    }
  }

  private AgentVersion effective(AgentVersion pinned, JsonNode patch) {
    try {
      return agents.withOverrides(pinned, patch);
    } catch (DomainException.ValidationFailed e) {
      throw new DomainException.ValidationFailed(e.errors().stream()
          .map(f -> new FieldError(f.field().equals("body") ? "agent_overrides" : "agent_overrides." + f.field(),
              f.message()))
          .toList());
    }
  }

  private String templated(String prompt, JsonNode conversationVariables) {
    Map<String, String> variables = new LinkedHashMap<>();
    if (conversationVariables != null) {
      conversationVariables.properties().forEach(e -> variables.put(e.getKey(),
          e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    }
    Set<String> missing = PromptTemplate.missing(prompt, variables);
    if (!missing.isEmpty()) {
      throw new DomainException.ValidationFailed("agent_overrides.system_prompt",
          "uses variables the conversation does not have: " + missing);
    }
    return PromptTemplate.fill(prompt, variables);
  }

  // ---- copying ----

  /**
   * A new conversation holding what the model had seen by the fork's step: the messages before the
   * original run (kept as history, without a run) and the run's own messages made by the steps
   * before it (its input, the answers with their tool calls, the tool results).
   */
  private String copyConversation(Handle h, Caller caller, Conversation conversation, Run original, List<Step> steps,
      int fromStep, String forkId) {
    String id = ids.next();
    h.createUpdate("""
            INSERT INTO conversations (id, workspace_id, agent_id, variables, metadata)
            VALUES (:id, :w, :a, cast(:v AS jsonb), cast(:m AS jsonb))""")
        .bind("id", id).bind("w", caller.workspaceId()).bind("a", conversation.agentId())
        .bind("v", Json.write(mapper, orEmpty(conversation.variables())))
        .bind("m", Json.write(mapper, orEmpty(conversation.metadata())))
        .execute();
    int answered = (int) steps.stream()
        .filter(s -> s.index() < fromStep && !s.isToolCall() && s.status() == StepStatus.COMPLETED).count();
    List<Message> seen = RunMessages.of(store.messages(h, original.conversationId(), 0, Integer.MAX_VALUE),
        original.id()).seenBy(answered);
    List<ChatMessage> chat = store.asChat(seen);
    for (int i = 0; i < seen.size(); i++) {
      ChatMessage m = chat.get(i);
      String runId = original.id().equals(seen.get(i).runId()) ? forkId : null;
      events.appendMessage(WriteBatch.immediate(h), id, runId, m.role(), m.content(), m.toolCalls(), m.toolCallId(), m.name());
    }
    return id;
  }

  private JsonNode orEmpty(JsonNode node) {
    return node == null || node.isNull() ? mapper.createObjectNode() : node;
  }

  private static void copySteps(Handle h, String fromRunId, String toRunId, int beforeIndex) {
    h.createUpdate("""
            INSERT INTO run_steps (run_id, idx, type, status, started_at, ended_at, duration_ms, request, response,
                                   usage, attempts, tool_call_id, name, arguments, result, error, idempotency_key,
                                   decision_reason, executed_as, copied_from_run_id)
            SELECT :to, idx, type, status, started_at, ended_at, duration_ms, request, response,
                   usage, attempts, tool_call_id, name, arguments, result, error, idempotency_key,
                   decision_reason, executed_as, :from
            FROM run_steps WHERE run_id = :from AND idx < :before""")
        .bind("to", toRunId).bind("from", fromRunId).bind("before", beforeIndex)
        .execute();
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
