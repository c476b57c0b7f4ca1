package io.aryabhatta.engine;

import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.db.DatabaseErrors;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.Attempt;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.Usage;
import io.aryabhatta.tools.ToolOutcome;
import java.util.ArrayList;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's writes about a run it holds the lease of. They happen inside {@link #write}: one
 * transaction, fenced by the lease (a process that lost its lease writes nothing), in which several
 * of them may commit together, with the run's events ({@link RunEventLog}). The status changes the
 * API makes too (waiting for a person, completing, failing, cancelling) are {@link RunTransitions}'s;
 * this class adds the engine's own (a model call opened and answered, a tool started and finished)
 * and audits the engine's run state changes with the actor {@value #ENGINE}.
 */
public final class Journal {
  private static final Logger log = LoggerFactory.getLogger(Journal.class);
  static final String ENGINE = "engine";

  private final Jdbi jdbi;
  private final ObjectMapper mapper;
  private final RunEventLog events;
  private final RunTransitions transitions;
  private final AuditLog audit;
  /** Where the engine's writes number the run's events. */
  RunEventLog events() {
    return events;
  }

  /** A side effect starts only while at least this much of the lease is left. */
  private final Duration safetyMargin;
  /** How long a write waits out a lost database connection before giving up. */
  private final Duration outageBound;

  /**
   * @param lease how long a claim on a run lasts: a third of it is the safety margin a side effect
   *     needs to start, and a write retries through an outage for at most one lease
   */
  public Journal(Jdbi jdbi, ObjectMapper mapper, RunEventLog events, RunTransitions transitions, AuditLog audit,
      Duration lease) {
    this.jdbi = jdbi;
    this.mapper = mapper;
    this.events = events;
    this.transitions = transitions;
    this.audit = audit;
    this.safetyMargin = lease.dividedBy(3);
    this.outageBound = lease;
  }

  /**
   * A transaction in which {@code lease} still holds the run: its row is locked, so nothing else
   * changes the run until the transaction ends. Every engine write takes one, so a process that
   * lost its lease writes nothing; several writes can share one transaction (and one fence).
   *
   * @param live the lease has at least the safety margin (a third of its length) left, so no other
   *     process can take the run over before a side effect started now has had that long. Writes
   *     that start no side effect commit either way (the owner and epoch are their fence)
   * @param cancelRequested a cancel arrived while the run executed; the loop ends it at this step boundary
   */
  record Fenced(WriteBatch w, Lease lease, String workspaceId, String conversationId, RunStore.EndsInto endsInto,
      boolean live, boolean cancelRequested) {
    String runId() {
      return lease.runId();
    }

    /** Whether a side effect may start in this transaction: under a live lease, with no cancel. */
    boolean mayStartSideEffect() {
      return live && !cancelRequested;
    }

    /** A side effect may only start under a live lease. */
    Fenced requireLive() {
      if (!live) {
        throw new LeaseLostException(lease.runId());
      }
      return this;
    }
  }

  /** What a writer knows of its run without reading it, which lets its fence travel with its writes. */
  record RunFacts(String workspaceId, String conversationId, RunStore.EndsInto endsInto) {
    static RunFacts of(RunStore.RunState run) {
      return new RunFacts(run.workspaceId(), run.conversationId(), run.endsInto());
    }
  }

  /**
   * Locks the run's row if {@code lease} still holds it (otherwise the caller must stop) and marks
   * it with the write's {@code token}.
   */
  private Fenced fence(WriteBatch w, Lease lease, long token) {
    Fenced fenced = w.handleForReads().createQuery("""
            SELECT workspace_id, conversation_id, parent_run_id IS NOT NULL AS has_parent,
                   callback_url IS NOT NULL AS has_callback, coalesce(last_write = :token, false) AS landed,
                   lease_expires_at > now() + make_interval(secs => :margin) AS live, cancel_requested
            FROM runs WHERE id = :id AND lease_owner = :owner AND lease_epoch = :epoch FOR UPDATE""")
        .bind("id", lease.runId()).bind("owner", lease.owner()).bind("epoch", lease.epoch())
        .bind("margin", marginSeconds()).bind("token", token)
        .map((rs, c) -> {
          if (rs.getBoolean("landed")) {
            throw new AlreadyLanded();
          }
          return new Fenced(w, lease, rs.getString("workspace_id"), rs.getString("conversation_id"),
              new RunStore.EndsInto(rs.getBoolean("has_parent"), rs.getBoolean("has_callback")),
              rs.getBoolean("live"), rs.getBoolean("cancel_requested"));
        })
        .findOne()
        .orElseThrow(() -> new LeaseLostException(lease.runId()));
    w.statement("UPDATE runs SET last_write = :token WHERE id = :id")
        .bind("token", token).bind("id", lease.runId()).execute();
    return fenced;
  }

  private double marginSeconds() {
    return safetyMargin.toMillis() / 1000.0;
  }

  /**
   * Runs {@code work} in a transaction of its own, fenced by {@code lease}. Its writes and the
   * commit are sent to the database together, in one round trip, when it is done
   * ({@link WriteBatch}); the events it appends are numbered and inserted in one statement
   * among them.
   *
   * <p>With {@code facts}, the fence is the first statement of that round trip: the update of the
   * run's row that numbers and inserts the events matches only under the live lease with no cancel
   * (and calls {@code journal_fence_failed} otherwise), and {@code work} is written as for a live
   * lease and no cancel: a step costs one round trip and the WAL flush. If the lease is short of
   * its safety margin or a cancel has arrived, the fence fails the transaction, nothing is
   * written, and {@code work} runs again after the run's row is read, to decide with what it says.
   * {@code work} must therefore only write.
   *
   * <p>A lost database connection is waited out, for up to one lease, and the write sent again
   * (the lease's owner and epoch still fence it). When the connection broke after the commit may
   * have been sent, the run's row says whether it landed: every write marks it with a token of its
   * own, which is read before the write is sent again. Tokens only grow, and the fence matches a
   * row only with an older one: a try still on its way when the row was read, or delivered after
   * its writer gave it up, is refused, so a write is never made twice.
   */
  <T> T write(Lease lease, RunFacts facts, Function<Fenced, T> work) {
    long token = nextToken(lease);
    long deadline = System.nanoTime() + outageBound.toNanos();
    long backoffMillis = 100;
    // The last try whose commit was sent and got no answer: it may have landed.
    WriteAttempt<T> mayHaveLanded = null;
    while (true) {
      WriteAttempt<T> attempt = new WriteAttempt<>();
      try {
        if (mayHaveLanded == null || !landed(lease, token)) {
          writeOnce(lease, facts, work, token, attempt);
          return attempt.finish();
        }
        return mayHaveLanded.finish();
      } catch (AlreadyLanded e) {
        // A try sent earlier committed after all (its commit was still on its way when asked).
        return mayHaveLanded.finish();
      } catch (RuntimeException e) {
        if (!DatabaseErrors.isOutage(e)) {
          throw e;
        }
        if (attempt.sent) {
          mayHaveLanded = attempt;
        }
        if (System.nanoTime() + backoffMillis * 1_000_000 > deadline) {
          throw e;
        }
        log.warn("Run {}: the database connection failed ({}); trying again in {} ms", lease.runId(),
            e.getClass().getSimpleName(), backoffMillis);
        if (!Pause.sleep(backoffMillis)) {
          throw e;
        }
        backoffMillis = Math.min(2_000, backoffMillis * 2);
      }
    }
  }

  /** Tokens increase with the lease's epoch and, within it, with each write of this process. */
  private static final AtomicLong WRITES = new AtomicLong();

  private static long nextToken(Lease lease) {
    return (lease.epoch() << 40) | (WRITES.incrementAndGet() & ((1L << 40) - 1));
  }

  /** One try of a write: what its work returned, and what is to happen once it has committed. */
  private static final class WriteAttempt<T> {
    T result;
    /** The work is done and its commit is being sent: it may land even if no answer comes back. */
    boolean sent;
    final List<Runnable> afterCommit = new ArrayList<>();

    T done(T value) {
      result = value;
      sent = true;
      return value;
    }

    void discard() {
      sent = false;
      afterCommit.clear();
    }

    /** The write has committed: what was to happen then happens, each action on its own. */
    T finish() {
      for (Runnable action : afterCommit) {
        try {
          action.run();
        } catch (RuntimeException e) {
          log.warn("An action after a commit failed: {}", e.toString());
        }
      }
      return result;
    }
  }

  /** The fence found the write's own token on the run's row: a try sent before has committed. */
  private static final class AlreadyLanded extends RuntimeException {
    AlreadyLanded() {
      super("the write has already committed", null, false, false);
    }
  }

  private <T> T writeOnce(Lease lease, RunFacts facts, Function<Fenced, T> work, long token, WriteAttempt<T> attempt) {
    if (facts != null) {
      try {
        return WriteBatch.inTransaction(jdbi, w -> attempt.done(collectingEvents(
            new Fenced(w, lease, facts.workspaceId(), facts.conversationId(), facts.endsInto(), true, false), work,
            new RunEventLog.Fence(lease, token, marginSeconds()), attempt.afterCommit)));
      } catch (RuntimeException e) {
        String state = DatabaseErrors.sqlState(e);
        if (LEASE_LOST.equals(state)) {
          throw new LeaseLostException(lease.runId());
        }
        if (!NEEDS_DECISION.equals(state)) {
          throw e;
        }
        attempt.discard();
      }
    }
    return WriteBatch.inTransaction(jdbi, w -> attempt.done(collectingEvents(fence(w, lease, token), work, null,
        attempt.afterCommit)));
  }

  /**
   * Whether the write marked with {@code token} has committed. Throws while the database cannot
   * be reached: a try that may have landed is never sent again before this is known.
   */
  private boolean landed(Lease lease, long token) {
    return jdbi.withHandle(h -> h.createQuery("SELECT last_write = :token FROM runs WHERE id = :id")
        .bind("token", token).bind("id", lease.runId()).mapTo(Boolean.class).findOne().orElse(false));
  }

  private static final String LEASE_LOST = "AR001";
  private static final String NEEDS_DECISION = "AR002";

  /**
   * Writes of a run's first steps in the transaction that creates it, leased to this process: the
   * lease is inserted by that transaction, so it needs no fence, and nothing else can have changed
   * the run yet.
   */
  <T> T withinCreation(WriteBatch w, Lease lease, RunFacts facts, Function<Fenced, T> work) {
    return collectingEvents(new Fenced(w, lease, facts.workspaceId(), facts.conversationId(), facts.endsInto(), true,
        false), work, null,
        null);
  }

  /**
   * With a {@code fence}, the events go with it, sent ahead of the work's writes. What is to happen
   * after the commit goes to {@code afterCommit} (run by the writer once it knows the write
   * landed), or else to the transaction's own after-commit actions.
   */
  private <T> T collectingEvents(Fenced fenced, Function<Fenced, T> work, RunEventLog.Fence fence,
      List<Runnable> afterCommit) {
    return events.collecting(fenced.w(), fenced.runId(), fence, afterCommit, () -> work.apply(fenced));
  }

  // ---- the engine's writes, fenced by the lease ----

  private static final String STARTED_RUN = """
      UPDATE runs SET status = :to, started_at = coalesce(started_at, now()),
                      trace_context = coalesce(trace_context, :trace)
      WHERE id = :id AND status IN (%s)""".formatted(RunTransitions.guard(RunStatus.Change.STARTED));

  /**
   * A queued run starts; a run left {@code running} by a process that died or stopped is resumed.
   *
   * @param queued the run's status when this process took it
   * @param traceContext the trace the run's executions join, kept if one is journaled already; null
   *     when not tracing
   */
  void markRunning(Fenced f, boolean queued, String traceContext) {
    if (queued) {
      f.w().statement(STARTED_RUN).bind("id", f.runId()).bind("trace", traceContext)
          .bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.STARTED)).execute();
      startedEvents(f);
    } else {
      auditEngine(f, "run.resumed", Map.of("node", f.lease().owner(), "lease_epoch", f.lease().epoch()));
    }
  }

  /**
   * A run its creation begins: its row was inserted {@code running} (its start is part of its
   * creation, so its status is not updated); only the trace it joins, if any, is added.
   */
  void markRunningAtCreation(Fenced f, String traceContext) {
    if (traceContext != null) {
      f.w().statement("UPDATE runs SET trace_context = :trace WHERE id = :id")
          .bind("trace", traceContext).bind("id", f.runId()).execute();
    }
    startedEvents(f);
  }

  private void startedEvents(Fenced f) {
    events.appendEvent(f.w(), f.runId(), "run.running", Map.of());
    auditEngine(f, "run.running", Map.of("node", f.lease().owner()));
  }

  /**
   * Opens the step of the next model call, at {@code nextIndex}. A model call that was started but
   * has no recorded response ({@code unanswered}: its process died) is made again in the same step,
   * so the journal holds each step once; the lost attempt is recorded, and a second
   * {@code llm_call.started} event for the same step tells stream readers to drop the partial
   * text they got.
   *
   * @param request the request body as it will be sent, as JSON text
   * @return the step's index
   */
  int startModelCall(Fenced f, String request, Integer unanswered, int nextIndex) {
    WriteBatch w = f.w();
    if (unanswered != null) {
      w.statement("""
              UPDATE run_steps SET request = cast(:req AS jsonb), attempts = attempts || cast(:lost AS jsonb)
              WHERE run_id = :r AND idx = :i""")
          .bind("req", request).bind("lost", Json.write(mapper, List.of(transitions.lostAttempt())))
          .bind("r", f.runId()).bind("i", unanswered).execute();
      events.appendEvent(w, f.runId(), "llm_call.started", Map.of("step", unanswered, "resumed", true));
      return unanswered;
    }
    w.statement("""
            INSERT INTO run_steps (run_id, idx, type, status, started_at, request)
            VALUES (:r, :i, 'llm_call', :s, now(), cast(:req AS jsonb))""")
        .bind("r", f.runId()).bind("i", nextIndex).bind("s", StepStatus.STARTED).bind("req", request)
        .execute();
    events.count(f.w(), f.runId(), 1, Usage.ZERO);
    events.appendEvent(w, f.runId(), "llm_call.started", Map.of("step", nextIndex));
    return nextIndex;
  }

  /**
   * The start of a tool call in the transaction that records the answer asking for it: its step is
   * inserted {@code started} rather than inserted {@code pending} and updated.
   *
   * @param executedAs what the tool is as it starts (see {@link #startTool})
   */
  record ToolStart(int index, JsonNode executedAs) {}

  /**
   * Commits a model's answer together with the tool calls it asks for, before any tool runs. A
   * final answer completes the run in the same transaction.
   *
   * @param requestAsJournaled the request recorded when the step opened: the body actually sent is
   *     written again only if it differs
   * @param runUsageBefore the run's tokens before this call's
   * @param startsNow the call that starts in this transaction, or null; it starts only if
   *     {@link Fenced#mayStartSideEffect}, the condition under which the loop writes a start
   */
  void completeModelCall(Fenced f, int index, JsonNode requestAsJournaled, ChatResult result, long durationMs,
      Usage runUsageBefore, ToolStart startsNow) {
    WriteBatch w = f.w();
    String runId = f.runId();
    Usage usage = result.usage() == null ? Usage.ZERO : result.usage();
    boolean requestChanged = result.request() != null && !result.request().equals(requestAsJournaled);
    w.statement("""
            UPDATE run_steps SET status = :s, ended_at = now(), duration_ms = :d,
                   request = coalesce(cast(:req AS jsonb), request), response = cast(:resp AS jsonb),
                   usage = cast(:usage AS jsonb), attempts = attempts || cast(:attempts AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.SUCCEEDED)).bind("d", durationMs)
        .bind("req", requestChanged ? Json.write(mapper, result.request()) : null)
        .bind("resp", Json.write(mapper, responseRecord(result)))
        .bind("usage", result.usage() == null ? null : Json.write(mapper, result.usage()))
        .bind("attempts", Json.write(mapper, result.attempts()))
        .bind("r", runId).bind("i", index)
        .execute();
    events.count(f.w(), f.runId(), 0, usage);
    List<ToolCall> calls = result.toolCalls();
    if (calls.isEmpty() && f.cancelRequested()) {
      // The cancel came first: the answer is journaled in its step, and its tokens counted, but
      // the run does not complete with it. (Tool calls asked for are settled as not executed.)
      events.appendEvent(w, runId, "llm_call.completed", Map.of("step", index, "usage", usage));
      cancelRun(f);
      return;
    }
    events.appendMessage(w, f.conversationId(), runId, "assistant", result.content(), calls, null, null);
    events.appendEvent(w, runId, "llm_call.completed", Map.of("step", index, "usage", usage));
    boolean mayStart = startsNow != null && f.mayStartSideEffect();
    for (Step step : toolSteps(runId, index, calls)) {
      boolean starts = mayStart && step.index() == startsNow.index();
      w.statement("""
              INSERT INTO run_steps (run_id, idx, type, status, tool_call_id, name, arguments, idempotency_key,
                                     started_at, executed_as)
              VALUES (:r, :i, 'tool_call', :s, :id, :name, :args, :key,
                      CASE WHEN :starts THEN now() END, cast(:tool AS jsonb))""")
          .bind("s", starts ? step.status().after(StepStatus.Change.EXECUTION_STARTED) : step.status())
          .bind("r", runId).bind("i", step.index()).bind("id", step.toolCallId()).bind("name", step.name())
          .bind("args", step.arguments()).bind("key", step.idempotencyKey())
          .bind("starts", starts).bind("tool", starts ? Json.write(mapper, startsNow.executedAs()) : null)
          .execute();
      events.appendEvent(w, runId, "tool_call.created", Map.of("step", step.index(), "tool_call_id", step.toolCallId(),
          "name", step.name(), "arguments", Json.parsedOrText(mapper, step.arguments())));
    }
    if (calls.isEmpty()) {
      transitions.complete(w, runId, f.endsInto(), result.content(), runUsageBefore.plus(usage));
      auditEngine(f, "run.completed", Map.of("node", f.lease().owner()));
    }
  }

  /** The pending steps of the tool calls a model's answer at step {@code index} asks for, in order. */
  static List<Step> toolSteps(String runId, int index, List<ToolCall> calls) {
    List<Step> steps = new ArrayList<>();
    int next = index + 1;
    for (ToolCall call : calls) {
      steps.add(Step.outline(runId, next, "tool_call", StepStatus.PENDING, call.id(), call.name(), call.arguments(),
          idempotencyKey(runId, next)));
      next++;
    }
    return steps;
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

  /** Derived from the run and the step, so a re-execution after a crash carries the same key. */
  static String idempotencyKey(String runId, int stepIndex) {
    return runId + "-" + stepIndex;
  }

  void failModelCall(Fenced f, int index, String kind, String message, List<Attempt> attempts, long durationMs) {
    f.w().statement("""
            UPDATE run_steps SET status = :s, ended_at = now(), duration_ms = :d, error = :e,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.FAILED)).bind("d", durationMs).bind("e", message).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
    transitions.fail(f.w(), f.runId(), f.endsInto(), kind, message);
    auditEngine(f, "run.failed", Map.of("node", f.lease().owner(), "code", kind));
  }

  void cancelModelCall(Fenced f, int index, List<Attempt> attempts, long durationMs) {
    f.w().statement("""
            UPDATE run_steps SET status = :s, ended_at = now(), duration_ms = :d,
                   error = 'cancelled during the model call', attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.RUN_CANCELLED)).bind("d", durationMs).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
    transitions.cancel(f.w(), f.runId(), f.endsInto());
    auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
  }

  /**
   * A tool call starts to wait for a person after {@code change}; a call left {@code started} by a
   * dead process gets its lost attempt.
   */
  void toolWaits(Fenced f, Step step, StepStatus.Change change) {
    f.w().statement("""
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = :s
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(transitions.lostAttempt())))
        .bind("s", step.status().after(change)).bind("r", f.runId()).bind("i", step.index()).execute();
  }

  /**
   * Committed just before a tool executes (each attempt): after a crash, this says the outcome is
   * unknown. Only under a live lease, so a process that stalled past its lease starts nothing.
   * A call found {@code started} again is a re-execution after a crash: its lost attempt is
   * recorded first.
   *
   * @param executedAs what the tool is as it starts (see {@link ToolSnapshot}); a re-execution
   *     after a crash is decided from it
   */
  void startTool(Fenced f, Step step, JsonNode executedAs) {
    f.requireLive().w().statement("""
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = :s, started_at = coalesce(started_at, now()), executed_as = cast(:tool AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(transitions.lostAttempt()))).bind("tool", Json.write(mapper, executedAs))
        .bind("s", step.status().after(StepStatus.Change.EXECUTION_STARTED))
        .bind("r", f.runId()).bind("i", step.index()).execute();
  }

  /**
   * A call that failed in a way that leaves its effect unknown (the request may have reached the
   * target): it is not finished, and the run will wait for a person to settle it.
   */
  void recordUnknownOutcome(Fenced f, int index, ToolOutcome outcome, List<JsonNode> attempts) {
    f.w().statement("""
            UPDATE run_steps SET status = :s, error = :e, duration_ms = :d,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.OUTCOME_LOST)).bind("e", outcome.result()).bind("d", outcome.durationMs()).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
  }

  /** Records a failed attempt that is about to be retried (the call stays {@code started}). */
  void recordToolAttemptBeforeRetry(Fenced f, int index, JsonNode attempt) {
    f.w().statement("""
            UPDATE run_steps SET attempts = attempts || cast(:a AS jsonb) WHERE run_id = :r AND idx = :i""")
        .bind("a", Json.write(mapper, List.of(attempt))).bind("r", f.runId()).bind("i", index).execute();
  }

  /** A tool's result and the tool message the model will read commit together. */
  void finishTool(Fenced f, Step step, ToolOutcome outcome, List<JsonNode> attempts) {
    ToolMessages.ToolResult recorded = ToolMessages.ToolResult.of(outcome);
    transitions.recordToolResult(f.w(), f.runId(), f.conversationId(), step, recorded.change(), recorded.result(),
        recorded.error(), outcome.durationMs(), attempts);
  }

  void requireAction(Fenced f, String type, List<Step> calls) {
    if (f.cancelRequested()) {
      // A cancel that arrived while the loop decided to pause wins: nobody should be asked to act.
      transitions.cancel(f.w(), f.runId(), f.endsInto());
      auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
      return;
    }
    transitions.requireAction(f.w(), f.runId(), f.endsInto(), type, calls);
    auditEngine(f, "run.requires_action", Map.of("node", f.lease().owner(), "type", type,
        "tool_call_ids", calls.stream().map(Step::toolCallId).toList()));
  }

  void waitForChildren(Fenced f, List<String> children) {
    transitions.waitForChildren(f.w(), f.runId(), children);
    auditEngine(f, "run.waiting", Map.of("node", f.lease().owner(), "children", children));
  }

  void failRun(Fenced f, String kind, String message) {
    transitions.fail(f.w(), f.runId(), f.endsInto(), kind, message);
    auditEngine(f, "run.failed", Map.of("node", f.lease().owner(), "code", kind));
  }

  void cancelRun(Fenced f) {
    transitions.cancel(f.w(), f.runId(), f.endsInto());
    auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
  }

  /** An audit row for a run state change the engine made, in the transaction making it. */
  private void auditEngine(Fenced f, String action, Map<String, ?> details) {
    audit.record(f.w(), f.workspaceId(), ENGINE, action, "run", f.runId(), details);
    String runId = f.runId();
    events.afterCommit(f.w(), () -> log.info("Run {}: {} {}", runId, action, details));
  }

}
