package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.BatchedWrites;
import io.aryabhatta.db.DatabaseErrors;
import io.aryabhatta.db.StorableText;
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
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every write the engine makes about a run. The engine's writes happen inside {@link #write}: one
 * transaction, fenced by the lease (a process that lost its lease writes nothing), in which
 * several of them may commit together; the API's writes (a run's creation, a cancel, answers to
 * waiting calls) join their caller's transaction. The engine's run state changes are audited with
 * the actor {@value #ENGINE}.
 */
public final class Journal {
  private static final Logger log = LoggerFactory.getLogger(Journal.class);
  static final String ENGINE = "engine";

  private final Jdbi jdbi;
  private final ObjectMapper mapper;
  private final RunStore store;
  private final EventNotifier notifier;
  private final AuditLog audit;
  /** A side effect starts only while at least this much of the lease is left. */
  private final Duration safetyMargin;
  /** How long a write waits out a lost database connection before giving up. */
  private final Duration outageBound;

  /**
   * @param lease how long a claim on a run lasts: a third of it is the safety margin a side effect
   *     needs to start, and a write retries through an outage for at most one lease
   */
  public Journal(Jdbi jdbi, ObjectMapper mapper, RunStore store, EventNotifier notifier, AuditLog audit,
      Duration lease) {
    this.jdbi = jdbi;
    this.mapper = mapper;
    this.store = store;
    this.notifier = notifier;
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
  record Fenced(Handle h, Lease lease, String workspaceId, String conversationId, boolean live,
      boolean cancelRequested) {
    String runId() {
      return lease.runId();
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
  record RunFacts(String workspaceId, String conversationId) {}

  /**
   * Locks the run's row if {@code lease} still holds it (otherwise the caller must stop) and marks
   * it with the write's {@code token}.
   */
  private Fenced fence(Handle h, Lease lease, long token) {
    Fenced fenced = h.createQuery("""
            SELECT workspace_id, conversation_id, coalesce(last_write = :token, false) AS landed,
                   lease_expires_at > now() + make_interval(secs => :margin) AS live, cancel_requested
            FROM runs WHERE id = :id AND lease_owner = :owner AND lease_epoch = :epoch FOR UPDATE""")
        .bind("id", lease.runId()).bind("owner", lease.owner()).bind("epoch", lease.epoch())
        .bind("margin", marginSeconds()).bind("token", token)
        .map((rs, c) -> {
          if (rs.getBoolean("landed")) {
            throw new AlreadyLanded();
          }
          return new Fenced(h, lease, rs.getString("workspace_id"), rs.getString("conversation_id"),
              rs.getBoolean("live"), rs.getBoolean("cancel_requested"));
        })
        .findOne()
        .orElseThrow(() -> new LeaseLostException(lease.runId()));
    BatchedWrites.statement(h, "UPDATE runs SET last_write = :token WHERE id = :id")
        .bind("token", token).bind("id", lease.runId()).execute();
    return fenced;
  }

  private double marginSeconds() {
    return safetyMargin.toMillis() / 1000.0;
  }

  /**
   * Runs {@code work} in a transaction of its own, fenced by {@code lease}. Its writes and the
   * commit are sent to the database together, in one round trip, when it is done
   * ({@link BatchedWrites}); the events it appends are numbered and inserted in one statement
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
        return BatchedWrites.inTransaction(jdbi, h -> attempt.done(collectingEvents(
            new Fenced(h, lease, facts.workspaceId(), facts.conversationId(), true, false), work,
            new FenceToken(lease, token), attempt.afterCommit)));
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
    return BatchedWrites.inTransaction(jdbi, h -> attempt.done(collectingEvents(fence(h, lease, token), work, null,
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

  /** The lease a fence checks, and the token its write leaves on the run's row. */
  private record FenceToken(Lease lease, long token) {}

  private static final String LEASE_LOST = "AR001";
  private static final String NEEDS_DECISION = "AR002";

  /**
   * Writes of a run's first steps in the transaction that creates it, leased to this process: the
   * lease is inserted by that transaction, so it needs no fence, and nothing else can have changed
   * the run yet.
   */
  <T> T withinCreation(Handle h, Lease lease, RunFacts facts, Function<Fenced, T> work) {
    return collectingEvents(new Fenced(h, lease, facts.workspaceId(), facts.conversationId(), true, false), work, null,
        null);
  }

  /**
   * With a {@code fence}, the events go with it, sent ahead of the work's writes. What is to happen
   * after the commit goes to {@code afterCommit} (run by the writer once it knows the write
   * landed), or else to the handle's own after-commit actions.
   */
  private <T> T collectingEvents(Fenced fenced, Function<Fenced, T> work, FenceToken fence,
      List<Runnable> afterCommit) {
    EventBatch events = new EventBatch(fenced.h(), fenced.runId(), fence, afterCommit);
    openBatch.set(events);
    try {
      T result = work.apply(fenced);
      events.insert();
      return result;
    } finally {
      openBatch.remove();
    }
  }

  /** Runs {@code action} once the transaction of {@code h} has committed. */
  void afterCommit(Handle h, Runnable action) {
    EventBatch batch = openBatch.get();
    if (batch != null && batch.h == h && batch.afterCommit != null) {
      batch.afterCommit.add(action);
    } else {
      h.afterCommit(action);
    }
  }

  /** The events of one fenced transaction, kept on the run's own thread until the transaction's work is done. */
  private final ThreadLocal<EventBatch> openBatch = new ThreadLocal<>();

  /**
   * Adds the pending counts to the run's row and numbers the pending events from its counter: one
   * new version of the row. {@code %s} is a further condition on the row.
   */
  private static final String NUMBERED = """
      WITH numbered AS (
          UPDATE runs SET last_event_id = last_event_id + :n, steps_count = steps_count + :steps,
                 prompt_tokens = prompt_tokens + :p, completion_tokens = completion_tokens + :c,
                 total_tokens = total_tokens + :t%s
          WHERE id = :r%s
          RETURNING last_event_id)""";
  private static final String INSERT_NUMBERED = """
      INSERT INTO run_events (run_id, id, type, data)
      SELECT :r, numbered.last_event_id - :n + e.ord, e.type, cast(e.data AS jsonb)
      FROM numbered, unnest(cast(:types AS text[]), cast(:data AS text[])) WITH ORDINALITY AS e(type, data, ord)""";
  /** The events and counts of a transaction already fenced. */
  private static final String APPEND = NUMBERED.formatted("", "") + "\n" + INSERT_NUMBERED;
  /**
   * The fence with the events and counts: the row matches only under the live lease (with its
   * safety margin left) and no cancel, and {@code journal_fence_failed} says why it did not. It
   * leaves the write's token on the row, and matches only a row whose token is older: not one
   * where a try of the same write has committed (the row read after the failure says so), nor
   * one that a later write has passed (a try delivered late, after its writer gave it up).
   */
  private static final String FENCE_AND_APPEND = NUMBERED.formatted(", last_write = :token",
          " AND lease_owner = :owner AND lease_epoch = :epoch"
              + " AND lease_expires_at > now() + make_interval(secs => :margin) AND NOT cancel_requested"
              + " AND (last_write IS NULL OR last_write < :token)")
      + ",\nappended AS (\n" + INSERT_NUMBERED + ")\n"
      + "SELECT journal_fence_failed(:r, :owner, :epoch) WHERE NOT EXISTS (SELECT FROM numbered)";

  private final class EventBatch {
    private final Handle h;
    private final String runId;
    /** Where the fenced write collects what is to happen after its commit; null: the handle's own. */
    private final List<Runnable> afterCommit;
    /** Appended and not yet in a statement. */
    private final List<String> types = new ArrayList<>();
    private final List<String> data = new ArrayList<>();
    private int steps;
    private Usage tokens = Usage.ZERO;
    private boolean appended;
    private boolean settles;
    /** The fence has not been sent yet: it takes what is appended until then. */
    private boolean fencePending;

    /** With a {@code fence}, the batch's first statement is that fence, made when the writes are first sent. */
    EventBatch(Handle h, String runId, FenceToken fence, List<Runnable> afterCommit) {
      this.h = h;
      this.runId = runId;
      this.afterCommit = afterCommit;
      if (fence != null) {
        fencePending = true;
        BatchedWrites.sendFirst(h, () -> withFence(fence));
      }
    }

    boolean collects(Handle handle, String run) {
      return h == handle && runId.equals(run);
    }

    void add(String type, Object eventData) {
      types.add(type);
      // Bound as an array of texts, cast to jsonb one by one in SQL: made storable here.
      data.add(StorableText.json(Json.write(mapper, eventData)));
      appended = true;
      settles |= RunEvent.FINAL.contains(type);
    }

    void count(int addedSteps, Usage addedTokens) {
      steps += addedSteps;
      tokens = tokens.plus(addedTokens);
    }

    /** The fence, with the events and counts so far. */
    private BatchedWrites.Statement withFence(FenceToken fenceToken) {
      fencePending = false;
      Lease lease = fenceToken.lease();
      BatchedWrites.Statement fence = BatchedWrites.statement(h, FENCE_AND_APPEND)
          .bind("owner", lease.owner()).bind("epoch", lease.epoch()).bind("n", types.size())
          .bind("token", fenceToken.token()).bind("margin", marginSeconds());
      return bindPending(fence);
    }

    /** What is appended and not yet sent, and the notice of the run's new events. */
    void insert() {
      boolean pending = !types.isEmpty() || steps != 0 || !tokens.equals(Usage.ZERO);
      if (pending && !fencePending) {
        bindPending(BatchedWrites.statement(h, APPEND).bind("n", types.size())).execute();
      }
      if (!appended) {
        return;
      }
      if (settles) {
        // Whoever waits for the run to settle gets its row as this transaction leaves it.
        afterCommit(h, notifier.settled(runId, store.runWithWrites(h, runId)));
      } else {
        afterCommit(h, notifier.appended(runId, false));
      }
    }

    private BatchedWrites.Statement bindPending(BatchedWrites.Statement statement) {
      statement.bind("r", runId).bind("steps", steps)
          .bind("p", tokens.promptTokens()).bind("c", tokens.completionTokens()).bind("t", tokens.totalTokens())
          .bind("types", types.toArray(String[]::new)).bind("data", data.toArray(String[]::new));
      types.clear();
      data.clear();
      steps = 0;
      tokens = Usage.ZERO;
      return statement;
    }
  }

  /**
   * Adds to the run's model-call count and tokens, with the events of the fenced transaction (the
   * same update of the run's row).
   */
  private void countOnRun(Fenced f, int steps, Usage tokens) {
    EventBatch batch = openBatch.get();
    if (batch == null || !batch.collects(f.h(), f.runId())) {
      throw new IllegalStateException("a fenced write outside its transaction");
    }
    batch.count(steps, tokens);
  }

  /**
   * Appends an event to the run's stream: with the other events of the fenced transaction it is
   * part of, or else at once (numbered from the run's counter and inserted in one round trip).
   */
  void appendEvent(Handle h, String runId, String type, Object data) {
    EventBatch batch = openBatch.get();
    if (batch != null && batch.collects(h, runId)) {
      batch.add(type, data);
      return;
    }
    BatchedWrites.statement(h, """
            WITH numbered AS (
                UPDATE runs SET last_event_id = last_event_id + 1 WHERE id = :r RETURNING last_event_id)
            INSERT INTO run_events (run_id, id, type, data)
            SELECT :r, last_event_id, :type, cast(:data AS jsonb) FROM numbered""")
        .bind("r", runId).bind("type", type).bind("data", Json.write(mapper, data))
        .execute();
    afterCommit(h, notifier.appended(runId, RunEvent.FINAL.contains(type)));
  }

  void appendMessage(Handle h, String conversationId, String runId, String role, String content, List<ToolCall> calls,
      String toolCallId, String name) {
    String toolCalls = calls == null || calls.isEmpty() ? null : Json.write(mapper, calls);
    BatchedWrites.statement(h, """
            INSERT INTO messages (conversation_id, seq, run_id, role, content, tool_calls, tool_call_id, name)
            VALUES (:c, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = :c), :r, :role,
                    :content, cast(:calls AS jsonb), :tcid, :name)""")
        .bind("c", conversationId).bind("r", runId).bind("role", role).bind("content", content)
        .bind("calls", toolCalls).bind("tcid", toolCallId).bind("name", name)
        .execute();
  }

  // ---- the engine's writes, fenced by the lease ----

  private static final String STARTED_RUN = """
      UPDATE runs SET status = :to, started_at = coalesce(started_at, now())
      WHERE id = :id AND status IN (%s)""".formatted(guard(RunStatus.Change.STARTED));

  /** The statuses a run may be in for {@code change} to happen, as the statement making it checks them. */
  private static String guard(RunStatus.Change change) {
    return RunStatus.sqlList(RunStatus.TRANSITIONS.sources(change));
  }

  /**
   * A queued run starts; a run left {@code running} by a process that died or stopped is resumed.
   *
   * @param queued the run's status when this process took it
   */
  void markRunning(Fenced f, boolean queued) {
    if (queued) {
      BatchedWrites.statement(f.h(), STARTED_RUN).bind("id", f.runId())
          .bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.STARTED)).execute();
      appendEvent(f.h(), f.runId(), "run.running", Map.of());
      auditEngine(f, "run.running", Map.of("node", f.lease().owner()));
    } else {
      auditEngine(f, "run.resumed", Map.of("node", f.lease().owner(), "lease_epoch", f.lease().epoch()));
    }
  }

  /**
   * Opens the step of the next model call, at {@code nextIndex}. A model call that was started but
   * has no recorded response ({@code unanswered}: its process died) is made again in the same step,
   * so the journal holds each step once; the lost attempt is recorded, and a second
   * {@code llm_call.started} event for the same step tells stream readers to drop the partial
   * text they got.
   *
   * @param request the request body as it will be sent
   * @return the step's index
   */
  int startModelCall(Fenced f, JsonNode request, Integer unanswered, int nextIndex) {
    Handle h = f.h();
    if (unanswered != null) {
      BatchedWrites.statement(h, """
              UPDATE run_steps SET request = cast(:req AS jsonb), attempts = attempts || cast(:lost AS jsonb)
              WHERE run_id = :r AND idx = :i""")
          .bind("req", Json.write(mapper, request)).bind("lost", Json.write(mapper, List.of(lostAttempt())))
          .bind("r", f.runId()).bind("i", unanswered).execute();
      appendEvent(h, f.runId(), "llm_call.started", Map.of("step", unanswered, "resumed", true));
      return unanswered;
    }
    BatchedWrites.statement(h, """
            INSERT INTO run_steps (run_id, idx, type, status, started_at, request)
            VALUES (:r, :i, 'llm_call', :s, now(), cast(:req AS jsonb))""")
        .bind("r", f.runId()).bind("i", nextIndex).bind("s", StepStatus.STARTED).bind("req", Json.write(mapper, request))
        .execute();
    countOnRun(f, 1, Usage.ZERO);
    appendEvent(h, f.runId(), "llm_call.started", Map.of("step", nextIndex));
    return nextIndex;
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
   *
   * @param requestAsJournaled the request recorded when the step opened: the body actually sent is
   *     written again only if it differs
   * @param runUsageBefore the run's tokens before this call's
   */
  void completeModelCall(Fenced f, int index, JsonNode requestAsJournaled, ChatResult result, long durationMs,
      Usage runUsageBefore) {
    Handle h = f.h();
    String runId = f.runId();
    Usage usage = result.usage() == null ? Usage.ZERO : result.usage();
    boolean requestChanged = result.request() != null && !result.request().equals(requestAsJournaled);
    BatchedWrites.statement(h, """
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
    countOnRun(f, 0, usage);
    List<ToolCall> calls = result.toolCalls();
    if (calls.isEmpty() && f.cancelRequested()) {
      // The cancel came first: the answer is journaled in its step, and its tokens counted, but
      // the run does not complete with it. (Tool calls asked for are settled as not executed.)
      appendEvent(h, runId, "llm_call.completed", Map.of("step", index, "usage", usage));
      cancelRun(f);
      return;
    }
    appendMessage(h, f.conversationId(), runId, "assistant", result.content(), calls, null, null);
    appendEvent(h, runId, "llm_call.completed", Map.of("step", index, "usage", usage));
    for (Step step : toolSteps(runId, index, calls)) {
      BatchedWrites.statement(h, """
              INSERT INTO run_steps (run_id, idx, type, status, tool_call_id, name, arguments, idempotency_key)
              VALUES (:r, :i, 'tool_call', :s, :id, :name, :args, :key)""")
          .bind("s", step.status()).bind("r", runId).bind("i", step.index()).bind("id", step.toolCallId()).bind("name", step.name())
          .bind("args", step.arguments()).bind("key", step.idempotencyKey())
          .execute();
      appendEvent(h, runId, "tool_call.created", Map.of("step", step.index(), "tool_call_id", step.toolCallId(),
          "name", step.name(), "arguments", Json.parsedOrText(mapper, step.arguments())));
    }
    if (calls.isEmpty()) {
      complete(h, runId, result.content(), runUsageBefore.plus(usage));
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
    BatchedWrites.statement(f.h(), """
            UPDATE run_steps SET status = :s, ended_at = now(), duration_ms = :d, error = :e,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.FAILED)).bind("d", durationMs).bind("e", message).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
    fail(f.h(), f.runId(), kind, message);
    auditEngine(f, "run.failed", Map.of("node", f.lease().owner(), "code", kind));
  }

  void cancelModelCall(Fenced f, int index, List<Attempt> attempts, long durationMs) {
    BatchedWrites.statement(f.h(), """
            UPDATE run_steps SET status = :s, ended_at = now(), duration_ms = :d,
                   error = 'cancelled during the model call', attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.RUN_CANCELLED)).bind("d", durationMs).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
    cancel(f.h(), f.runId());
    auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
  }

  /**
   * A tool call starts to wait for a person after {@code change}; a call left {@code started} by a
   * dead process gets its lost attempt.
   */
  void toolWaits(Fenced f, Step step, StepStatus.Change change) {
    BatchedWrites.statement(f.h(), """
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = :s
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(lostAttempt())))
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
    BatchedWrites.statement(f.requireLive().h(), """
            UPDATE run_steps SET
                attempts = CASE WHEN status = 'started' THEN attempts || cast(:lost AS jsonb) ELSE attempts END,
                status = :s, started_at = coalesce(started_at, now()), executed_as = cast(:tool AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("lost", Json.write(mapper, List.of(lostAttempt()))).bind("tool", Json.write(mapper, executedAs))
        .bind("s", step.status().after(StepStatus.Change.EXECUTION_STARTED))
        .bind("r", f.runId()).bind("i", step.index()).execute();
  }

  /**
   * A call that failed in a way that leaves its effect unknown (the request may have reached the
   * target): it is not finished, and the run will wait for a person to settle it.
   */
  void recordUnknownOutcome(Fenced f, int index, ToolOutcome outcome, List<JsonNode> attempts) {
    BatchedWrites.statement(f.h(), """
            UPDATE run_steps SET status = :s, error = :e, duration_ms = :d,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", StepStatus.STARTED.after(StepStatus.Change.OUTCOME_LOST)).bind("e", outcome.result()).bind("d", outcome.durationMs()).bind("a", Json.write(mapper, attempts))
        .bind("r", f.runId()).bind("i", index).execute();
  }

  /** Records a failed attempt that is about to be retried (the call stays {@code started}). */
  void recordToolAttemptBeforeRetry(Fenced f, int index, JsonNode attempt) {
    BatchedWrites.statement(f.h(), """
            UPDATE run_steps SET attempts = attempts || cast(:a AS jsonb) WHERE run_id = :r AND idx = :i""")
        .bind("a", Json.write(mapper, List.of(attempt))).bind("r", f.runId()).bind("i", index).execute();
  }

  /** A tool's result and the tool message the model will read commit together. */
  void finishTool(Fenced f, Step step, ToolOutcome outcome, List<JsonNode> attempts) {
    ToolResult recorded = ToolResult.of(outcome);
    recordToolResult(f.h(), f.runId(), f.conversationId(), step, recorded.change(), recorded.result(),
        recorded.error(), outcome.durationMs(), attempts);
  }

  /** How an executed tool's outcome is recorded: its step's status, and its result or error. */
  record ToolResult(StepStatus.Change change, String result, String error) {
    static ToolResult of(ToolOutcome outcome) {
      return outcome.ok() ? new ToolResult(StepStatus.Change.SUCCEEDED, outcome.result(), null)
          : outcome.outcomeUnknown() ? new ToolResult(StepStatus.Change.OUTCOME_LOST, null, outcome.result())
          : new ToolResult(StepStatus.Change.FAILED, null, outcome.result());
    }

    /** The step's status once its execution (which started it) has this result. */
    StepStatus status() {
      return StepStatus.STARTED.after(change);
    }

    /** The tool message the model reads for it. */
    String message() {
      return toolMessage(status(), result, error);
    }
  }

  /**
   * Records a tool call's outcome, reached by {@code change} from the step's status, and the tool
   * message the model will read.
   */
  void recordToolResult(Handle h, String runId, String conversationId, Step step, StepStatus.Change change,
      String result, String error, Long durationMs, List<JsonNode> attempts) {
    StepStatus status = step.status().after(change);
    ArrayNode attemptArray = mapper.createArrayNode();
    if (attempts != null) {
      attempts.forEach(attemptArray::add);
    }
    // Appended in SQL: earlier attempts were committed one by one as they happened.
    BatchedWrites.statement(h, """
            UPDATE run_steps SET status = :s, result = :res, error = :err, ended_at = now(),
                   started_at = coalesce(started_at, now()), duration_ms = :d,
                   attempts = attempts || cast(:a AS jsonb)
            WHERE run_id = :r AND idx = :i""")
        .bind("s", status).bind("res", result).bind("err", error).bind("d", durationMs)
        .bind("a", Json.write(mapper, attemptArray)).bind("r", runId).bind("i", step.index())
        .execute();
    String content = toolMessage(status, result, error);
    appendMessage(h, conversationId, runId, "tool", content, null, step.toolCallId(), step.name());
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
    appendEvent(h, runId, "tool_call.completed", data);
  }

  /** The tool message the model reads for a call's outcome. */
  static String toolMessage(StepStatus status, String result, String error) {
    return switch (status) {
      case COMPLETED -> result;
      case REJECTED -> "The user rejected this tool call"
          + (error == null || error.isBlank() ? "." : ": " + error);
      case CANCELLED -> "Not executed: the run was cancelled.";
      case UNKNOWN_OUTCOME -> OUTCOME_UNKNOWN + (error == null || error.isBlank() ? "." : " (" + error + ").");
      default -> "Error: " + error;
    };
  }

  /** What the model reads for a call that was executed, or may have been, with no known result. */
  static final String OUTCOME_UNKNOWN =
      "Outcome unknown: this call was started but its result is not known, so it may have been executed";

  /** Why a call of unknown outcome ended so, by how the run ended. */
  private static String whyUnknownAtEnd(RunStatus runStatus) {
    return "the run was " + runStatus + " before its outcome was settled";
  }

  /** Why a call of unknown outcome that a person chose not to execute again ended so. */
  static String whyUnknownAfterRejection(String reason) {
    return "the user chose not to execute it again" + (reason == null || reason.isBlank() ? "" : ": " + reason);
  }

  void requireAction(Fenced f, String type, List<Step> calls) {
    if (f.cancelRequested()) {
      // A cancel that arrived while the loop decided to pause wins: nobody should be asked to act.
      cancel(f.h(), f.runId());
      auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
      return;
    }
    requireAction(f.h(), f.runId(), type, calls);
    auditEngine(f, "run.requires_action", Map.of("node", f.lease().owner(), "type", type,
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
      c.putPOJO("arguments", Json.parsedOrText(mapper, call.arguments()));
    }
    BatchedWrites.statement(h, """
            UPDATE runs SET status = :to, required_action = cast(:a AS jsonb),
                   lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id AND status IN (%s)""".formatted(guard(RunStatus.Change.PAUSED)))
        .bind("to", RunStatus.TRANSITIONS.target(RunStatus.Change.PAUSED))
        .bind("a", Json.write(mapper, action)).bind("id", runId).execute();
    appendEvent(h, runId, "run.requires_action", Map.of("required_action", action));
  }

  void failRun(Fenced f, String kind, String message) {
    fail(f.h(), f.runId(), kind, message);
    auditEngine(f, "run.failed", Map.of("node", f.lease().owner(), "code", kind));
  }

  void cancelRun(Fenced f) {
    cancel(f.h(), f.runId());
    auditEngine(f, "run.cancelled", Map.of("node", f.lease().owner()));
  }

  /** An audit row for a run state change the engine made, in the transaction making it. */
  private void auditEngine(Fenced f, String action, Map<String, ?> details) {
    audit.record(f.h(), f.workspaceId(), ENGINE, action, "run", f.runId(), details);
    String runId = f.runId();
    afterCommit(f.h(), () -> log.info("Run {}: {} {}", runId, action, details));
  }

  // ---- terminal transitions, shared by the engine and the API ----

  private void complete(Handle h, String runId, String output, Usage usage) {
    endRun(h, runId, RunStatus.Change.COMPLETED, output, null);
    appendEvent(h, runId, "run.completed", Map.of("output", output == null ? "" : output, "usage", usage));
  }

  void fail(Handle h, String runId, String kind, String message) {
    settleUnfinishedSteps(h, runId, RunStatus.Change.FAILED, "Not executed: the run failed.");
    ObjectNode error = mapper.createObjectNode().put("code", kind).put("message", message);
    endRun(h, runId, RunStatus.Change.FAILED, null, error);
    appendEvent(h, runId, "run.failed", Map.of("error", error));
  }

  void cancel(Handle h, String runId) {
    settleUnfinishedSteps(h, runId, RunStatus.Change.CANCELLED, null);
    endRun(h, runId, RunStatus.Change.CANCELLED, null, null);
    appendEvent(h, runId, "run.cancelled", Map.of());
  }

  /**
   * No dangling steps when a run ends as {@code ending} ({@code failed} or {@code cancelled}):
   * every unanswered tool call gets a recorded result and the tool message the model will read
   * (a call that never started: not executed; one that started and has no result:
   * {@code unknown_outcome}, for it may have been executed), and a model call left waiting by a
   * process that died ends as the run does.
   */
  private void settleUnfinishedSteps(Handle h, String runId, RunStatus.Change ending, String notExecutedError) {
    RunStatus ended = RunStatus.TRANSITIONS.target(ending);
    StepStatus.Change notExecuted = ending == RunStatus.Change.CANCELLED
        ? StepStatus.Change.RUN_CANCELLED : StepStatus.Change.RUN_FAILED;
    BatchedWrites.sendQueued(h);
    List<Step> unfinished = store.stepOutlines(h, runId).stream().filter(s -> !s.finished()).toList();
    if (unfinished.isEmpty()) {
      return;
    }
    String conversationId = h.createQuery("SELECT conversation_id FROM runs WHERE id = :id").bind("id", runId)
        .mapTo(String.class).one();
    for (Step step : unfinished) {
      if (!step.isToolCall()) {
        endUnansweredModelCall(h, runId, step, notExecuted, ended);
      } else if (step.status() == StepStatus.STARTED || step.status() == StepStatus.UNKNOWN_OUTCOME) {
        List<JsonNode> lost = step.status() == StepStatus.STARTED ? List.of(lostAttempt()) : List.of();
        recordToolResult(h, runId, conversationId, step, StepStatus.Change.OUTCOME_LOST, null, whyUnknownAtEnd(ended),
            null, lost);
      } else {
        recordToolResult(h, runId, conversationId, step, notExecuted, null, notExecutedError, null, List.of());
      }
    }
  }

  private void endUnansweredModelCall(Handle h, String runId, Step step, StepStatus.Change change, RunStatus ended) {
    BatchedWrites.statement(h, """
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

  private void endRun(Handle h, String runId, RunStatus.Change change, String output, JsonNode error) {
    BatchedWrites.statement(h, END_RUN.get(change))
        .bind("s", RunStatus.TRANSITIONS.target(change)).bind("o", output).bind("e", error == null ? null : Json.write(mapper, error))
        .bind("id", runId)
        .execute();
  }
}
