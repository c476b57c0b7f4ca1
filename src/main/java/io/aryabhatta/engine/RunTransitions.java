package io.aryabhatta.engine;

import io.aryabhatta.callbacks.CallbackDeliveries;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.RunStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.Usage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;

/**
 * The changes of a run's status, and of its steps', that the engine and the API make alike: a run
 * waits for a person, is queued again once the person answered, completes, fails or is cancelled
 * (settling every unfinished step first), and a tool call's outcome is recorded with the tool
 * message the model will read. Each writes in the batch it is given: the engine's fenced one
 * ({@link Journal}), or the API's own. Every status written is the target of a change in
 * {@link RunStatus#TRANSITIONS} or {@link StepStatus#TRANSITIONS}.
 */
public final class RunTransitions {
  private final ObjectMapper mapper;
  private final RunStore store;
  private final RunEventLog events;
  private final AuditLog audit;
  private final Runnable callbackQueued;
  private final Consumer<String> runQueued;

  public RunTransitions(ObjectMapper mapper, RunStore store, RunEventLog events, AuditLog audit) {
    this(mapper, store, events, audit, () -> { }, id -> { });
  }

  /**
   * @param callbackQueued told once a transaction that queued a run's callback has committed
   * @param runQueued told the id of a run queued again by a transaction that has committed (a
   *     parent whose children ended), for this node to take it at once if it has a free slot
   */
  public RunTransitions(ObjectMapper mapper, RunStore store, RunEventLog events, AuditLog audit,
      Runnable callbackQueued, Consumer<String> runQueued) {
    this.mapper = mapper;
    this.store = store;
    this.events = events;
    this.audit = audit;
    this.callbackQueued = callbackQueued;
    this.runQueued = runQueued;
  }

  /** The statuses a run may be in for {@code change} to happen, as the statement making it checks them. */
  static String guard(RunStatus.Change change) {
    return RunStatus.sqlList(RunStatus.TRANSITIONS.sources(change));
  }

  /** The attempt a process was making when it died: no status, no duration, outcome unknown. */
  ObjectNode lostAttempt() {
    ObjectNode attempt = mapper.createObjectNode();
    attempt.putNull("status_code");
    attempt.put("error", "interrupted: the process making this attempt stopped before recording its outcome");
    attempt.putNull("duration_ms");
    return attempt;
  }

  /**
   * Records a tool call's outcome, reached by {@code change} from the step's status, and the tool
   * message the model will read.
   */
  public void recordToolResult(WriteBatch w, String runId, String conversationId, Step step, StepStatus.Change change,
      String result, String error, Long durationMs, List<JsonNode> attempts) {
    StepStatus status = step.status().after(change);
    ArrayNode attemptArray = mapper.createArrayNode();
    if (attempts != null) {
      attempts.forEach(attemptArray::add);
    }
    // Appended in SQL: earlier attempts were committed one by one as they happened.
    w.statement("""
            UPDATE run_steps SET status = :s, result = :res, error = :err, ended_at = now(),
                   started_at = coalesce(started_at, now()), duration_ms = :d,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", status).bind("res", result).bind("err", error).bind("d", durationMs)
        .bind("a", Json.write(mapper, attemptArray)).bind("r", runId).bind("i", step.index())
        .execute();
    String content = ToolMessages.toolMessage(status, result, error);
    events.appendMessage(w, conversationId, runId, "tool", content, null, step.toolCallId(), step.name());
    ObjectNode data = mapper.createObjectNode();
    data.put("step", step.index());
    data.put("tool_call_id", step.toolCallId());
    data.put("name", step.name());
    data.put("status", status.wire());
    if (status == StepStatus.COMPLETED) {
      data.put("result", result);
    } else {
      data.put("error", content);
    }
    events.appendEvent(w, runId, "tool_call.completed", data);
  }

  /** The run's sub-agent calls started their child runs: it waits for them, and no node holds it. */
  void waitForChildren(WriteBatch w, String runId, List<String> children) {
    w.statement("""
            UPDATE runs SET status = :to, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id AND status IN (%s)""".formatted(guard(RunStatus.Change.CHILDREN_STARTED)))
        .bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.CHILDREN_STARTED)).bind("id", runId).execute();
    events.appendEvent(w, runId, "run.waiting", Map.of("children", children));
    events.afterCommit(w, () -> children.forEach(runQueued));
  }

  /** @param endsInto what the run's end does beyond it, when the caller knows it; null: it is read */
  void requireAction(WriteBatch w, String runId, RunStore.EndsInto endsInto, String type, List<Step> calls) {
    ObjectNode action = mapper.createObjectNode();
    action.put("type", type);
    ArrayNode list = action.putArray("tool_calls");
    for (Step call : calls) {
      ObjectNode c = list.addObject();
      c.put("id", call.toolCallId());
      c.put("name", call.name());
      c.putPOJO("arguments", Json.parsedOrText(mapper, call.arguments()));
    }
    w.statement("""
            UPDATE runs SET status = :to, required_action = cast(:a AS jsonb),
                   lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id AND status IN (%s)""".formatted(guard(RunStatus.Change.PAUSED)))
        .bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.PAUSED))
        .bind("a", Json.write(mapper, action)).bind("id", runId).execute();
    events.appendEvent(w, runId, "run.requires_action", Map.of("required_action", action));
    if (endsInto == null || endsInto.parent()) {
      surfaceOnParent(w, runId);
    }
  }

  /** The person answered everything the run waited for: it is queued again, for any node to take. */
  public void resume(WriteBatch w, String runId) {
    w.statement(RESUME).bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.ANSWERED)).bind("id", runId)
        .execute();
    surfaceOnParent(w, runId);
  }

  private static final String RESUME = """
      UPDATE runs SET status = :to, required_action = NULL, lease_owner = NULL, lease_expires_at = NULL
      WHERE id = :id AND status IN (%s)""".formatted(guard(RunStatus.Change.ANSWERED));

  void complete(WriteBatch w, String runId, RunStore.EndsInto endsInto, String output, Usage usage) {
    endRun(w, runId, endsInto, RunStatus.Change.COMPLETED, output, null, usage);
    events.appendEvent(w, runId, "run.completed", Map.of("output", output == null ? "" : output, "usage", usage));
  }

  void fail(WriteBatch w, String runId, RunStore.EndsInto endsInto, String kind, String message) {
    settleUnfinishedSteps(w, runId, RunStatus.Change.FAILED, "Not executed: the run failed.");
    ObjectNode error = mapper.createObjectNode().put("code", kind).put("message", message);
    endRun(w, runId, endsInto, RunStatus.Change.FAILED, null, error, null);
    events.appendEvent(w, runId, "run.failed", Map.of("error", error));
  }

  /** Cancels a run the caller knows nothing more of: whether it has a parent or a callback is read. */
  public void cancel(WriteBatch w, String runId) {
    cancel(w, runId, null);
  }

  void cancel(WriteBatch w, String runId, RunStore.EndsInto endsInto) {
    settleUnfinishedSteps(w, runId, RunStatus.Change.CANCELLED, null);
    endRun(w, runId, endsInto, RunStatus.Change.CANCELLED, null, null, null);
    events.appendEvent(w, runId, "run.cancelled", Map.of());
  }

  /**
   * No dangling steps when a run ends as {@code ending} ({@code failed} or {@code cancelled}):
   * every unanswered tool call gets a recorded result and the tool message the model will read
   * (a call that never started: not executed; one that started and has no result:
   * {@code unknown_outcome}, for it may have been executed), and a model call left waiting by a
   * process that died ends as the run does.
   */
  private void settleUnfinishedSteps(WriteBatch w, String runId, RunStatus.Change ending, String notExecutedError) {
    RunStatus ended = RunStatus.TRANSITIONS.target(ending);
    StepStatus.Change notExecuted = ending == RunStatus.Change.CANCELLED
        ? StepStatus.Change.RUN_CANCELLED : StepStatus.Change.RUN_FAILED;
    Handle reads = w.handleForReads();
    List<Step> unfinished = store.stepOutlines(reads, runId).stream().filter(s -> !s.finished()).toList();
    if (unfinished.isEmpty()) {
      return;
    }
    String conversationId = reads.createQuery("SELECT conversation_id FROM runs WHERE id = :id").bind("id", runId)
        .mapTo(String.class).one();
    for (Step step : unfinished) {
      if (!step.isToolCall()) {
        endUnansweredModelCall(w, runId, step, notExecuted, ended);
      } else if (step.status() == StepStatus.STARTED || step.status() == StepStatus.UNKNOWN_OUTCOME) {
        List<JsonNode> lost = step.status() == StepStatus.STARTED ? List.of(lostAttempt()) : List.of();
        recordToolResult(w, runId, conversationId, step, StepStatus.Change.OUTCOME_LOST, null,
            ToolMessages.whyUnknownAtEnd(ended), null, lost);
      } else if (step.status() == StepStatus.AWAITING_CHILD) {
        // The child has run, and may have acted: not "not executed". What it did is in its journal.
        String child = reads.createQuery("SELECT id FROM runs WHERE parent_run_id = :r AND parent_step = :i")
            .bind("r", runId).bind("i", step.index()).mapTo(String.class).findOne().orElse(null);
        recordToolResult(w, runId, conversationId, step, notExecuted, null, ToolMessages.whyChildUnanswered(ended, child),
            null, List.of());
      } else {
        recordToolResult(w, runId, conversationId, step, notExecuted, null, notExecutedError, null, List.of());
      }
    }
  }

  private void endUnansweredModelCall(WriteBatch w, String runId, Step step, StepStatus.Change change, RunStatus ended) {
    w.statement("""
            UPDATE run_steps SET status = :s, ended_at = now(), error = :e, attempts = attempts || cast(:lost AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", step.status().after(change))
        .bind("e", "the run was " + ended + " before the model's answer was recorded")
        .bind("lost", Json.write(mapper, List.of(lostAttempt()))).bind("r", runId).bind("i", step.index()).execute();
  }

  /** The statement ending a run by each change that ends one, guarded by the statuses it may end from. */
  private static final Map<RunStatus.Change, String> END_RUN = Map.of(
      RunStatus.Change.COMPLETED, endRunStatement(RunStatus.Change.COMPLETED),
      RunStatus.Change.FAILED, endRunStatement(RunStatus.Change.FAILED),
      RunStatus.Change.CANCELLED, endRunStatement(RunStatus.Change.CANCELLED));

  private static String endRunStatement(RunStatus.Change change) {
    return """
        UPDATE runs SET status = :s, output = :o, error = cast(:e AS jsonb), required_action = NULL,
               ended_at = now(), lease_owner = NULL, lease_expires_at = NULL
        WHERE id = :id AND status IN (%s)""".formatted(guard(change));
  }

  /**
   * @param endsInto what the end does beyond the run, when the caller knows it; null: it is read
   * @param usage the run's tokens when the ending knows them; null: as its row counts them
   */
  private void endRun(WriteBatch w, String runId, RunStore.EndsInto endsInto, RunStatus.Change change, String output,
      JsonNode error, Usage usage) {
    w.statement(END_RUN.get(change))
        .bind("s", RunStatus.TRANSITIONS.target(change)).bind("o", output).bind("e", error == null ? null : Json.write(mapper, error))
        .bind("id", runId)
        .execute();
    // In the same transaction: a child's outcome reaches its parent exactly once.
    if (endsInto == null || endsInto.parent()) {
      childEnded(w, runId, RunStatus.TRANSITIONS.target(change), output, error, usage);
    }
    if (endsInto != null && !endsInto.callback()) {
      return;
    }
    // In the transaction that ends the run: a crash can neither lose its callback nor queue it twice.
    WriteBatch.Row<Boolean> queued = CallbackDeliveries.queueOnEnd(w, runId);
    // Only a run that has a callback wakes the worker: the others add no poll of their own.
    w.afterCommit(() -> {
      if (queued.orNull() != null) {
        callbackQueued.run();
      }
    });
  }

  // ---- a child ending ----

  /**
   * In the transaction ending run {@code runId}: if it is a child, its outcome becomes its call's
   * result on the parent (locked first, so that two children ending at once answer one after the
   * other), its tokens are added to the parent's, and the parent is queued again when none of its
   * calls waits any more.
   *
   * @param usage the child's tokens, when the ending knows them (else they are read from its row)
   */
  private void childEnded(WriteBatch w, String runId, RunStatus ended, String output, JsonNode error, Usage usage) {
    if (usage == null) {
      // Its tokens are read from its row: with what this transaction has counted (its last answer's).
      events.sendPending(w, runId);
    }
    Handle reads = w.handleForReads();
    Optional<Map<String, Object>> link = reads.createQuery("""
            SELECT parent_run_id, parent_step, prompt_tokens, completion_tokens, total_tokens
            FROM runs WHERE id = :id AND parent_run_id IS NOT NULL""")
        .bind("id", runId).mapToMap().findOne();
    if (link.isEmpty()) {
      return;
    }
    String parentId = (String) link.get().get("parent_run_id");
    int stepIndex = ((Number) link.get().get("parent_step")).intValue();
    Usage tokens = usage != null ? usage : new Usage(((Number) link.get().get("prompt_tokens")).intValue(),
        ((Number) link.get().get("completion_tokens")).intValue(), ((Number) link.get().get("total_tokens")).intValue());
    // FOR NO KEY UPDATE, not FOR UPDATE: each child's own writes hold a key-share lock on its
    // parent's row (its foreign key), which FOR UPDATE would wait for, and two children deadlock.
    Map<String, Object> parent = reads.createQuery("""
            SELECT workspace_id, conversation_id, status, parent_run_id FROM runs
            WHERE id = :id FOR NO KEY UPDATE""")
        .bind("id", parentId).mapToMap().one();
    String conversationId = (String) parent.get("conversation_id");
    // Only a parent showing a child's question has one to update (a waiting one had none).
    boolean showsQuestion = RunStatus.of((String) parent.get("status")) == RunStatus.REQUIRES_ACTION;
    w.statement("""
            UPDATE runs SET prompt_tokens = prompt_tokens + :p, completion_tokens = completion_tokens + :c,
                   total_tokens = total_tokens + :t WHERE id = :id""")
        .bind("p", tokens.promptTokens()).bind("c", tokens.completionTokens()).bind("t", tokens.totalTokens())
        .bind("id", parentId).execute();
    Optional<Step> call = store.stepOutlines(reads, parentId).stream()
        .filter(s -> s.index() == stepIndex && s.status() == StepStatus.AWAITING_CHILD).findFirst();
    if (call.isEmpty()) {
      // The parent ended first (it was cancelled, or failed): nobody waits for this outcome.
      return;
    }
    if (ended == RunStatus.COMPLETED) {
      recordToolResult(w, parentId, conversationId, call.get(), StepStatus.Change.CHILD_COMPLETED,
          output == null ? "" : output, null, null, List.of());
    } else {
      recordToolResult(w, parentId, conversationId, call.get(), StepStatus.Change.CHILD_FAILED, null,
          SubAgents.whyNoOutput(ended, runId, error), null, List.of());
    }
    boolean othersWait = reads.createQuery("""
            SELECT EXISTS (SELECT 1 FROM run_steps WHERE run_id = :r AND status = :s AND idx <> :answered)""")
        .bind("r", parentId).bind("s", StepStatus.AWAITING_CHILD.wire()).bind("answered", stepIndex)
        .mapTo(Boolean.class).one();
    if (othersWait) {
      if (showsQuestion) {
        // The child that ended may have been one of those waiting for a person.
        showChildrenWaitingForAPerson(w, parentId);
      }
      return;
    }
    orderToolMessagesByCall(w, conversationId);
    w.statement(QUEUE_PARENT).bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.CHILDREN_ENDED))
        .bind("id", parentId).execute();
    events.appendEvent(w, parentId, "run.queued", Map.of("reason", "children_ended"));
    auditChildrenChange(w, (String) parent.get("workspace_id"), parentId, "run.queued",
        Map.of("reason", "children_ended", "child_run_id", runId));
    events.afterCommit(w, () -> runQueued.accept(parentId));
    if (showsQuestion && parent.get("parent_run_id") != null) {
      // It no longer waits for a person: its own parent may stop showing it.
      showChildrenWaitingForAPerson(w, (String) parent.get("parent_run_id"));
    }
  }

  /** A run waiting for its children, and one waiting for a person only because a child does. */
  private static final String WAITS_FOR_CHILDREN = """
      (status = '%s' OR (status = '%s' AND required_action->>'type' = '%s'))""".formatted(RunStatus.WAITING.wire(),
      RunStatus.REQUIRES_ACTION.wire(), SubAgents.CHILD_REQUIRES_ACTION);

  private static final String QUEUE_PARENT = """
      UPDATE runs SET status = :to, required_action = NULL WHERE id = :id AND status IN (%s) AND %s"""
      .formatted(RunTransitions.guard(RunStatus.Change.CHILDREN_ENDED), WAITS_FOR_CHILDREN);

  /**
   * The tool messages answering the model's last answer, in the order of its calls: children end in
   * any order, and calls the loop answered itself were recorded before the children's. Only the
   * tail of the conversation moves, while its run waits and nothing else writes to it. The primary
   * key is checked row by row, so the messages go through negative numbers first.
   */
  private void orderToolMessagesByCall(WriteBatch w, String conversationId) {
    w.statement("""
            WITH last_answer AS (
                SELECT seq, tool_calls FROM messages
                WHERE conversation_id = :c AND role = 'assistant' ORDER BY seq DESC LIMIT 1),
            ordered AS (
                SELECT m.seq, a.seq + row_number() OVER (
                           ORDER BY (SELECT t.ord FROM jsonb_array_elements(a.tool_calls) WITH ORDINALITY AS t(call, ord)
                                     WHERE t.call->>'id' = m.tool_call_id LIMIT 1) NULLS LAST, m.seq) AS wanted
                FROM messages m, last_answer a
                WHERE m.conversation_id = :c AND m.seq > a.seq AND m.role = 'tool')
            UPDATE messages m SET seq = -o.wanted FROM ordered o
            WHERE m.conversation_id = :c AND m.seq = o.seq""")
        .bind("c", conversationId).execute();
    w.statement("UPDATE messages SET seq = -seq WHERE conversation_id = :c AND seq < 0")
        .bind("c", conversationId).execute();
  }

  // ---- a child waiting for a person, shown on its parent ----

  /**
   * In the transaction that changes the status of run {@code runId}: if it is a child, its parent
   * shows which of its children wait for a person (see {@link #showChildrenWaitingForAPerson}).
   */
  private void surfaceOnParent(WriteBatch w, String runId) {
    String parentId = w.handleForReads().createQuery("SELECT parent_run_id FROM runs WHERE id = :id")
        .bind("id", runId).mapTo(String.class).findOne().orElse(null);
    if (parentId != null) {
      showChildrenWaitingForAPerson(w, parentId);
    }
  }

  /**
   * A run waiting for its children goes to {@code requires_action} while any of them waits for a
   * person, with a {@code required_action} naming them (each with its own), and back to
   * {@code waiting} once none does; the person answers on the child. The parent is locked first
   * (as a child's end locks it), so that children pausing at once update it one after the other;
   * and its own parent is told in turn, so a grandchild's question reaches the root.
   */
  private void showChildrenWaitingForAPerson(WriteBatch w, String parentId) {
    Handle reads = w.handleForReads();
    Optional<Map<String, Object>> parent = reads.createQuery("""
            SELECT workspace_id, status, required_action::text AS required_action FROM runs
            WHERE id = :id AND %s FOR NO KEY UPDATE""".formatted(WAITS_FOR_CHILDREN))
        .bind("id", parentId).mapToMap().findOne();
    if (parent.isEmpty()) {
      // Ended (cancelled, or failed), or queued again: nobody waits on its children's questions.
      return;
    }
    RunStatus status = RunStatus.of((String) parent.get().get("status"));
    ObjectNode action = childrenWaitingForAPerson(reads, parentId);
    if (action == null && status == RunStatus.WAITING) {
      return;
    }
    if (action == null) {
      w.statement(BACK_TO_WAITING).bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.CHILDREN_ANSWERED))
          .bind("id", parentId).execute();
      events.appendEvent(w, parentId, "run.waiting", Map.of("reason", "children_answered"));
      auditChildrenChange(w, (String) parent.get().get("workspace_id"), parentId, "run.waiting",
          Map.of("reason", "children_answered"));
    } else {
      String before = (String) parent.get().get("required_action");
      if (status == RunStatus.REQUIRES_ACTION && before != null && action.equals(Json.read(mapper, before))) {
        return;
      }
      w.statement(CHILD_PAUSED).bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.CHILD_PAUSED))
          .bind("a", Json.write(mapper, action)).bind("id", parentId).execute();
      events.appendEvent(w, parentId, "run.requires_action", Map.of("required_action", action));
      auditChildrenChange(w, (String) parent.get().get("workspace_id"), parentId, "run.requires_action",
          Map.of("type", SubAgents.CHILD_REQUIRES_ACTION, "child_run_ids",
              action.get("children").findValuesAsText("run_id")));
    }
    surfaceOnParent(w, parentId);
  }

  /** A parent's status changed by its children, audited as the engine's, in the transaction changing it. */
  private void auditChildrenChange(WriteBatch w, String workspaceId, String parentId, String action,
      Map<String, ?> details) {
    audit.record(w, workspaceId, Journal.ENGINE, action, "run", parentId, details);
  }

  private static final String BACK_TO_WAITING = """
      UPDATE runs SET status = :to, required_action = NULL WHERE id = :id AND status IN (%s) AND %s"""
      .formatted(guard(RunStatus.Change.CHILDREN_ANSWERED), WAITS_FOR_CHILDREN);

  private static final String CHILD_PAUSED = """
      UPDATE runs SET status = :to, required_action = cast(:a AS jsonb) WHERE id = :id AND status IN (%s) AND %s"""
      .formatted(guard(RunStatus.Change.CHILD_PAUSED), WAITS_FOR_CHILDREN);

  /**
   * {@code {"type": "child_requires_action", "tool_calls": [the calls whose children wait],
   * "children": [{"run_id", "tool_call_id", "required_action"}]}}, in the order of the calls; null
   * when no child waits for a person.
   */
  private ObjectNode childrenWaitingForAPerson(Handle reads, String parentId) {
    List<Map<String, Object>> rows = reads.createQuery("""
            SELECT c.id, c.required_action::text AS required_action, s.tool_call_id, s.name, s.arguments
            FROM runs c JOIN run_steps s ON s.run_id = c.parent_run_id AND s.idx = c.parent_step
            WHERE c.parent_run_id = :p AND c.status = :waiting AND s.status = :awaiting
            ORDER BY c.parent_step""")
        .bind("p", parentId).bind("waiting", RunStatus.REQUIRES_ACTION.wire())
        .bind("awaiting", StepStatus.AWAITING_CHILD.wire()).mapToMap().list();
    if (rows.isEmpty()) {
      return null;
    }
    ObjectNode action = mapper.createObjectNode();
    action.put("type", SubAgents.CHILD_REQUIRES_ACTION);
    ArrayNode calls = action.putArray("tool_calls");
    ArrayNode children = action.putArray("children");
    for (Map<String, Object> row : rows) {
      ObjectNode call = calls.addObject();
      call.put("id", (String) row.get("tool_call_id"));
      call.put("name", (String) row.get("name"));
      call.putPOJO("arguments", Json.parsedOrText(mapper, (String) row.get("arguments")));
      ObjectNode child = children.addObject();
      child.put("run_id", (String) row.get("id"));
      child.put("tool_call_id", (String) row.get("tool_call_id"));
      String asked = (String) row.get("required_action");
      child.set("required_action", asked == null ? mapper.nullNode() : Json.read(mapper, asked));
    }
    return action;
  }
}
