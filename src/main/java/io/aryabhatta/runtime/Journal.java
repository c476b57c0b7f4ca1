package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.Attempt;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.Usage;
import io.aryabhatta.tools.ToolOutcome;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every write the engine makes about a run. Each public method is one transaction, so a reader
 * sees exactly what commits together; the engine's writes first check the lease epoch (fencing),
 * so a process that lost its lease writes nothing. The engine's run state changes are audited
 * with the actor {@value #ENGINE}.
 */
public final class Journal {
  private static final Logger log = LoggerFactory.getLogger(Journal.class);
  static final String ENGINE = "engine";

  private final ObjectMapper mapper;
  private final RunStore store;
  private final EventNotifier notifier;
  private final AuditLog audit;

  public Journal(ObjectMapper mapper, RunStore store, EventNotifier notifier, AuditLog audit) {
    this.mapper = mapper;
    this.store = store;
    this.notifier = notifier;
    this.audit = audit;
  }

  /** Locks the run's row if {@code lease} still holds it; otherwise the caller must stop. */
  void fence(Handle h, Lease lease) {
    boolean held = h.createQuery("""
            SELECT true FROM runs WHERE id = :id AND lease_owner = :owner AND lease_epoch = :epoch FOR UPDATE""")
        .bind("id", lease.runId()).bind("owner", lease.owner()).bind("epoch", lease.epoch())
        .mapTo(Boolean.class).findOne().orElse(false);
    if (!held) {
      throw new LeaseLostException(lease.runId());
    }
  }

  /**
   * Like {@link #fence}, and the lease must not have expired either: a side effect may only start
   * while no other process can have taken the run over.
   */
  private void fenceLive(Handle h, Lease lease) {
    boolean live = h.createQuery("""
            SELECT true FROM runs WHERE id = :id AND lease_owner = :owner AND lease_epoch = :epoch
              AND lease_expires_at > now() FOR UPDATE""")
        .bind("id", lease.runId()).bind("owner", lease.owner()).bind("epoch", lease.epoch())
        .mapTo(Boolean.class).findOne().orElse(false);
    if (!live) {
      throw new LeaseLostException(lease.runId());
    }
  }

  /** Numbers the event from the run's counter and inserts it, in one round trip. */
  long appendEvent(Handle h, String runId, String type, Object data) {
    long id = h.createQuery("""
            WITH numbered AS (
                UPDATE runs SET last_event_id = last_event_id + 1 WHERE id = :r RETURNING last_event_id)
            INSERT INTO run_events (run_id, id, type, data)
            SELECT :r, last_event_id, :type, cast(:data AS jsonb) FROM numbered
            RETURNING id""")
        .bind("r", runId).bind("type", type).bind("data", Json.write(mapper, data))
        .mapTo(Long.class).one();
    notifier.afterCommit(h, runId, RunEvent.FINAL.contains(type));
    return id;
  }

  int appendMessage(Handle h, String conversationId, String runId, String role, String content, List<ToolCall> calls,
      String toolCallId, String name) {
    String toolCalls = calls == null || calls.isEmpty() ? null : Json.write(mapper, calls);
    return h.createQuery("""
            INSERT INTO messages (conversation_id, seq, run_id, role, content, tool_calls, tool_call_id, name)
            VALUES (:c, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = :c), :r, :role,
                    :content, cast(:calls AS jsonb), :tcid, :name)
            RETURNING seq""")
        .bind("c", conversationId).bind("r", runId).bind("role", role).bind("content", content)
        .bind("calls", toolCalls).bind("tcid", toolCallId).bind("name", name)
        .mapTo(Integer.class).one();
  }

  // ---- the engine's writes, fenced by the lease ----

  /** A queued run starts; a run left {@code running} by a process that died or stopped is resumed. */
  void markRunning(Handle h, Lease lease) {
    fence(h, lease);
    int changed = h.createUpdate("""
            UPDATE runs SET status = 'running', started_at = coalesce(started_at, now())
            WHERE id = :id AND status = 'queued'""")
        .bind("id", lease.runId()).execute();
    if (changed == 1) {
      appendEvent(h, lease.runId(), "run.running", Map.of());
      auditEngine(h, lease.runId(), "run.running", Map.of("node", lease.owner()));
    } else {
      auditEngine(h, lease.runId(), "run.resumed", Map.of("node", lease.owner(), "lease_epoch", lease.epoch()));
    }
  }

  /**
   * Opens the step of the next model call. A model call that was started but has no recorded
   * response (its process died) is made again in the same step, so the journal holds each step
   * once; the lost attempt is recorded, and a second {@code llm_call.started} event for the same
   * step tells stream readers to drop the partial text they got.
   */
  int startModelCall(Handle h, Lease lease, JsonNode request) {
    fence(h, lease);
    Integer unanswered = h.createQuery("""
            SELECT idx FROM run_steps WHERE run_id = :r AND type = 'llm_call' AND status = 'started'""")
        .bind("r", lease.runId()).mapTo(Integer.class).findOne().orElse(null);
    if (unanswered != null) {
      h.createUpdate("""
              UPDATE run_steps SET request = cast(:req AS jsonb), attempts = attempts || cast(:lost AS jsonb)
              WHERE run_id = :r AND idx = :i""")
          .bind("req", Json.write(mapper, request)).bind("lost", Json.write(mapper, List.of(lostAttempt())))
          .bind("r", lease.runId()).bind("i", unanswered).execute();
      appendEvent(h, lease.runId(), "llm_call.started", Map.of("step", unanswered, "resumed", true));
      return unanswered;
    }
    int index = nextStepIndex(h, lease.runId());
    h.createUpdate("""
            INSERT INTO run_steps (run_id, idx, type, status, started_at, request)
            VALUES (:r, :i, 'llm_call', 'started', now(), cast(:req AS jsonb))""")
        .bind("r", lease.runId()).bind("i", index).bind("req", Json.write(mapper, request))
        .execute();
    h.createUpdate("UPDATE runs SET steps_count = steps_count + 1 WHERE id = :id").bind("id", lease.runId()).execute();
    appendEvent(h, lease.runId(), "llm_call.started", Map.of("step", index));
    return index;
  }

  /** The attempt a process was making when it died: no status, no duration, outcome unknown. */
  private ObjectNode lostAttempt() {
    ObjectNode attempt = mapper.createObjectNode();
    attempt.putNull("status_code");
    attempt.put("error", "interrupted: the process making this attempt stopped before recording its outcome");
    attempt.putNull("duration_ms");
    return attempt;
  }

  /**
   * Commits a model's answer together with the tool calls it asks for, before any tool runs. A
   * final answer completes the run in the same transaction.
   */
  void completeModelCall(Handle h, Lease lease, String conversationId, int index, ChatResult result,
      List<ToolCall> calls, long durationMs) {
    fence(h, lease);
    Usage usage = result.usage() == null ? Usage.ZERO : result.usage();
    h.createUpdate("""
            UPDATE run_steps SET status = 'completed', ended_at = now(), duration_ms = :d,
                   request = cast(:req AS jsonb), response = cast(:resp AS jsonb),
                   usage = cast(:usage AS jsonb), attempts = attempts || cast(:attempts AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("d", durationMs)
        .bind("req", Json.write(mapper, result.request()))
        .bind("resp", Json.write(mapper, responseRecord(result)))
        .bind("usage", result.usage() == null ? null : Json.write(mapper, result.usage()))
        .bind("attempts", Json.write(mapper, result.attempts()))
        .bind("r", lease.runId()).bind("i", index)
        .execute();
    h.createUpdate("""
            UPDATE runs SET prompt_tokens = prompt_tokens + :p, completion_tokens = completion_tokens + :c,
                   total_tokens = total_tokens + :t
            WHERE id = :id""")
        .bind("p", usage.promptTokens()).bind("c", usage.completionTokens()).bind("t", usage.totalTokens())
        .bind("id", lease.runId()).execute();
    appendMessage(h, conversationId, lease.runId(), "assistant", result.content(), calls, null, null);
    appendEvent(h, lease.runId(), "llm_call.completed", Map.of("step", index, "usage", usage));
    int next = index + 1;
    for (ToolCall call : calls) {
      h.createUpdate("""
              INSERT INTO run_steps (run_id, idx, type, status, tool_call_id, name, arguments, idempotency_key)
              VALUES (:r, :i, 'tool_call', 'pending', :id, :name, :args, :key)""")
          .bind("r", lease.runId()).bind("i", next).bind("id", call.id()).bind("name", call.name())
          .bind("args", call.arguments()).bind("key", idempotencyKey(lease.runId(), next))
          .execute();
      appendEvent(h, lease.runId(), "tool_call.created",
          Map.of("step", next, "tool_call_id", call.id(), "name", call.name(), "arguments", argumentsForEvent(call)));
      next++;
    }
    if (calls.isEmpty()) {
      complete(h, lease.runId(), result.content());
      auditEngine(h, lease.runId(), "run.completed", Map.of("node", lease.owner()));
    }
  }

  private JsonNode responseRecord(ChatResult result) {
    ObjectNode parsed = mapper.createObjectNode();
    parsed.put("content", result.content());
    parsed.put("reasoning", result.reasoning());
    parsed.set("tool_calls", mapper.valueToTree(result.toolCalls()));
    parsed.put("finish_reason", result.finishReason());
    ObjectNode record = mapper.createObjectNode();
    record.set("parsed", parsed);
    record.set("raw", result.response());
    return record;
  }

  private Object argumentsForEvent(ToolCall call) {
    try {
      return mapper.readTree(call.arguments());
    } catch (Exception e) {
      return call.arguments();
    }
  }

  /** Derived from the run and the step, so a re-execution after a crash carries the same key. */
  static String idempotencyKey(String runId, int stepIndex) {
    return runId + "-" + stepIndex;
  }

  void failModelCall(Handle h, Lease lease, int index, String kind, String message, List<Attempt> attempts,
      long durationMs) {
    fence(h, lease);
    h.createUpdate("""
            UPDATE run_steps SET status = 'failed', ended_at = now(), duration_ms = :d, error = :e,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("d", durationMs).bind("e", message).bind("a", Json.write(mapper, attempts))
        .bind("r", lease.runId()).bind("i", index).execute();
    fail(h, lease.runId(), kind, message);
    auditEngine(h, lease.runId(), "run.failed", Map.of("node", lease.owner(), "code", kind));
  }

  void cancelModelCall(Handle h, Lease lease, int index, List<Attempt> attempts, long durationMs) {
    fence(h, lease);
    h.createUpdate("""
            UPDATE run_steps SET status = 'cancelled', ended_at = now(), duration_ms = :d,
                   error = 'cancelled during the model call', attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("d", durationMs).bind("a", Json.write(mapper, attempts))
        .bind("r", lease.runId()).bind("i", index).execute();
    cancel(h, lease.runId());
    auditEngine(h, lease.runId(), "run.cancelled", Map.of("node", lease.owner()));
  }

  /** Moves a waiting tool call to {@code status}; a call left {@code started} by a dead process gets its lost attempt. */
  void setToolStatus(Handle h, Lease lease, int index, String status) {
    fence(h, lease);
    h.createUpdate("""
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = :s
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(lostAttempt())))
        .bind("s", status).bind("r", lease.runId()).bind("i", index).execute();
  }

  /**
   * Committed just before a tool executes (each attempt): after a crash, this says the outcome is
   * unknown. Only under a live lease, so a process that stalled past its lease starts nothing.
   * A call found {@code started} again is a re-execution after a crash: its lost attempt is
   * recorded first.
   */
  void startTool(Handle h, Lease lease, int index) {
    fenceLive(h, lease);
    h.createUpdate("""
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = 'started', started_at = coalesce(started_at, now())
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(lostAttempt())))
        .bind("r", lease.runId()).bind("i", index).execute();
  }

  /**
   * Records a failed attempt that is about to be retried (the call stays {@code started}); the
   * retry is another execution, so like the first it needs a live lease: returns whether the lease
   * is still live (the attempt is recorded either way).
   */
  boolean recordToolAttemptBeforeRetry(Handle h, Lease lease, int index, JsonNode attempt) {
    fence(h, lease);
    h.createUpdate("""
            UPDATE run_steps SET attempts = attempts || cast(:a AS jsonb) WHERE run_id = :r AND idx = :i""")
        .bind("a", Json.write(mapper, List.of(attempt))).bind("r", lease.runId()).bind("i", index).execute();
    return h.createQuery("SELECT lease_expires_at > now() FROM runs WHERE id = :id")
        .bind("id", lease.runId()).mapTo(Boolean.class).one();
  }

  /** A tool's result and the tool message the model will read commit together. */
  void finishTool(Handle h, Lease lease, String conversationId, Step step, ToolOutcome outcome,
      List<JsonNode> attempts) {
    fence(h, lease);
    recordToolResult(h, lease.runId(), conversationId, step, outcome.ok() ? "completed" : "failed",
        outcome.ok() ? outcome.result() : null, outcome.ok() ? null : outcome.result(),
        outcome.durationMs(), attempts);
  }

  void recordToolResult(Handle h, String runId, String conversationId, Step step, String status, String result,
      String error, Long durationMs, List<JsonNode> attempts) {
    ArrayNode attemptArray = mapper.createArrayNode();
    if (attempts != null) {
      attempts.forEach(attemptArray::add);
    }
    // Appended in SQL: earlier attempts were committed one by one as they happened.
    h.createUpdate("""
            UPDATE run_steps SET status = :s, result = :res, error = :err, ended_at = now(),
                   started_at = coalesce(started_at, now()), duration_ms = :d,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", status).bind("res", result).bind("err", error).bind("d", durationMs)
        .bind("a", Json.write(mapper, attemptArray)).bind("r", runId).bind("i", step.index())
        .execute();
    String content = switch (status) {
      case "completed" -> result;
      case "rejected" -> "The user rejected this tool call"
          + (error == null || error.isBlank() ? "." : ": " + error);
      case "cancelled" -> "Not executed: the run was cancelled.";
      default -> "Error: " + error;
    };
    appendMessage(h, conversationId, runId, "tool", content, null, step.toolCallId(), step.name());
    ObjectNode data = mapper.createObjectNode();
    data.put("step", step.index());
    data.put("tool_call_id", step.toolCallId());
    data.put("name", step.name());
    data.put("status", status);
    if (status.equals("completed")) {
      data.put("result", result);
    } else {
      data.put("error", content);
    }
    appendEvent(h, runId, "tool_call.completed", data);
  }

  void requireAction(Handle h, Lease lease, String type, List<Step> calls) {
    fence(h, lease);
    boolean cancelRequested = h.createQuery("SELECT cancel_requested FROM runs WHERE id = :id")
        .bind("id", lease.runId()).mapTo(Boolean.class).one();
    if (cancelRequested) {
      // A cancel that arrived while the loop decided to pause wins: nobody should be asked to act.
      cancel(h, lease.runId());
      auditEngine(h, lease.runId(), "run.cancelled", Map.of("node", lease.owner()));
      return;
    }
    requireAction(h, lease.runId(), type, calls);
    auditEngine(h, lease.runId(), "run.requires_action", Map.of("node", lease.owner(), "type", type,
        "tool_call_ids", calls.stream().map(Step::toolCallId).toList()));
  }

  void requireAction(Handle h, String runId, String type, List<Step> calls) {
    ObjectNode action = mapper.createObjectNode();
    action.put("type", type);
    ArrayNode list = action.putArray("tool_calls");
    for (Step call : calls) {
      ObjectNode c = list.addObject();
      c.put("id", call.toolCallId());
      c.put("name", call.name());
      c.putPOJO("arguments", argumentsForEvent(new ToolCall(call.toolCallId(), call.name(), call.arguments())));
    }
    h.createUpdate("""
            UPDATE runs SET status = 'requires_action', required_action = cast(:a AS jsonb),
                   lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id""")
        .bind("a", Json.write(mapper, action)).bind("id", runId).execute();
    appendEvent(h, runId, "run.requires_action", Map.of("required_action", action));
  }

  void failRun(Handle h, Lease lease, String kind, String message) {
    fence(h, lease);
    fail(h, lease.runId(), kind, message);
    auditEngine(h, lease.runId(), "run.failed", Map.of("node", lease.owner(), "code", kind));
  }

  void cancelRun(Handle h, Lease lease) {
    fence(h, lease);
    cancel(h, lease.runId());
    auditEngine(h, lease.runId(), "run.cancelled", Map.of("node", lease.owner()));
  }

  /** An audit row for a run state change the engine made, in the transaction making it. */
  private void auditEngine(Handle h, String runId, String action, Map<String, ?> details) {
    String workspaceId = h.createQuery("SELECT workspace_id FROM runs WHERE id = :id").bind("id", runId)
        .mapTo(String.class).one();
    audit.record(h, workspaceId, ENGINE, action, "run", runId, details);
    h.afterCommit(() -> log.info("Run {}: {} {}", runId, action, details));
  }

  // ---- terminal transitions, shared by the engine and the API ----

  private void complete(Handle h, String runId, String output) {
    Run run = endRun(h, runId, "completed", output, null);
    appendEvent(h, runId, "run.completed", Map.of("output", output == null ? "" : output, "usage", run.usage()));
  }

  void fail(Handle h, String runId, String kind, String message) {
    settleUnfinishedToolCalls(h, runId, "failed", "Not executed: the run failed.");
    ObjectNode error = mapper.createObjectNode().put("code", kind).put("message", message);
    endRun(h, runId, "failed", null, error);
    appendEvent(h, runId, "run.failed", Map.of("error", error));
  }

  void cancel(Handle h, String runId) {
    settleUnfinishedToolCalls(h, runId, "cancelled", null);
    endRun(h, runId, "cancelled", null, null);
    appendEvent(h, runId, "run.cancelled", Map.of());
  }

  /** No dangling tool calls: every unanswered call gets a recorded synthetic result. */
  private void settleUnfinishedToolCalls(Handle h, String runId, String status, String error) {
    Run run = store.run(h, runId);
    for (Step step : store.steps(h, runId)) {
      if (step.isToolCall() && !step.finished()) {
        recordToolResult(h, runId, run.conversationId(), step, status, null, error, null, List.of());
      }
    }
  }

  private Run endRun(Handle h, String runId, String status, String output, JsonNode error) {
    h.createUpdate("""
            UPDATE runs SET status = :s, output = :o, error = cast(:e AS jsonb), required_action = NULL,
                   ended_at = now(), lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id""")
        .bind("s", status).bind("o", output).bind("e", error == null ? null : Json.write(mapper, error))
        .bind("id", runId).execute();
    return store.run(h, runId);
  }

  private static int nextStepIndex(Handle h, String runId) {
    return h.createQuery("SELECT coalesce(max(idx) + 1, 0) FROM run_steps WHERE run_id = :r")
        .bind("r", runId).mapTo(Integer.class).one();
  }
}
