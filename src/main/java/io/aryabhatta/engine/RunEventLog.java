package io.aryabhatta.engine;

import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.EventNotifier;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A run's event stream and conversation as they are written. Events are numbered from the run's
 * own counter: in a fenced transaction they are collected, then numbered and inserted at its end in
 * one statement with the run's new counts (the fence's own statement, when the fence travels with
 * the writes); elsewhere each is inserted at once. Whoever waits for the run's events is told once
 * the transaction has committed.
 */
public final class RunEventLog {
  private final ObjectMapper mapper;
  private final RunStore store;
  private final EventNotifier notifier;

  public RunEventLog(ObjectMapper mapper, RunStore store, EventNotifier notifier) {
    this.mapper = mapper;
    this.store = store;
    this.notifier = notifier;
  }

  /**
   * With a {@code fence}, the events go with it, sent ahead of the work's writes. What is to happen
   * after the commit goes to {@code afterCommit} (run by the writer once it knows the write
   * landed), or else to the handle's own after-commit actions.
   */
  <T> T collecting(WriteBatch w, String runId, Fence fence, List<Runnable> afterCommit, Supplier<T> work) {
    EventBatch events = new EventBatch(w, runId, fence, afterCommit);
    w.keep(EventBatch.class, events);
    try {
      T result = work.get();
      events.insert();
      return result;
    } finally {
      w.forget(EventBatch.class);
    }
  }

  /**
   * The fence the events go with: the lease it checks, the safety margin the lease must still have,
   * and the token its write leaves on the run's row.
   */
  record Fence(Lease lease, long token, double marginSeconds) {}

  /** Runs {@code action} once the transaction of {@code w} has committed. */
  void afterCommit(WriteBatch w, Runnable action) {
    EventBatch batch = w.kept(EventBatch.class);
    if (batch != null && batch.afterCommit != null) {
      batch.afterCommit.add(action);
    } else {
      w.afterCommit(action);
    }
  }

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
  /** The events of one statement in one row (read one by one through the view {@code run_events}). */
  private static final String INSERT_NUMBERED = """
      INSERT INTO run_event_batches (run_id, first_id, types, data)
      SELECT :r, numbered.last_event_id - :n + 1, cast(:types AS text[]), cast(:data AS jsonb)
      FROM numbered WHERE :n > 0""";
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
    private final WriteBatch w;
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
    EventBatch(WriteBatch w, String runId, Fence fence, List<Runnable> afterCommit) {
      this.w = w;
      this.runId = runId;
      this.afterCommit = afterCommit;
      if (fence != null) {
        fencePending = true;
        w.sendFirst(() -> withFence(fence));
      }
    }

    boolean collects(String run) {
      return runId.equals(run);
    }

    void add(String type, Object eventData) {
      types.add(type);
      // Bound as one JSON array, the events' data in order.
      data.add(Json.write(mapper, eventData));
      appended = true;
      settles |= RunEvent.FINAL.contains(type);
    }

    void count(int addedSteps, Usage addedTokens) {
      steps += addedSteps;
      tokens = tokens.plus(addedTokens);
    }

    /** The fence, with the events and counts so far. */
    private WriteBatch.Statement withFence(Fence fenceToken) {
      fencePending = false;
      Lease lease = fenceToken.lease();
      WriteBatch.Statement fence = w.statement(FENCE_AND_APPEND)
          .bind("owner", lease.owner()).bind("epoch", lease.epoch()).bind("n", types.size())
          .bind("token", fenceToken.token()).bind("margin", fenceToken.marginSeconds());
      return bindPending(fence);
    }

    /** What is appended and not yet sent, and the notice of the run's new events. */
    void insert() {
      sendPending();
      if (!appended) {
        return;
      }
      if (settles) {
        // Whoever waits for the run to settle gets its row as this transaction leaves it.
        afterCommit(w, notifier.settled(runId, store.runWithWrites(w, runId)));
      } else {
        afterCommit(w, notifier.appended(runId, false));
      }
    }

    /** The events and counts collected and not yet in a statement; a fence still to be sent takes them itself. */
    void sendPending() {
      boolean pending = !types.isEmpty() || steps != 0 || !tokens.equals(Usage.ZERO);
      if (pending && !fencePending) {
        bindPending(w.statement(APPEND).bind("n", types.size())).execute();
      }
    }

    private WriteBatch.Statement bindPending(WriteBatch.Statement statement) {
      statement.bind("r", runId).bind("steps", steps)
          .bind("p", tokens.promptTokens()).bind("c", tokens.completionTokens()).bind("t", tokens.totalTokens())
          .bind("types", types.toArray(String[]::new)).bind("data", "[" + String.join(",", data) + "]");
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
  void count(WriteBatch w, String runId, int steps, Usage tokens) {
    EventBatch batch = w.kept(EventBatch.class);
    if (batch == null || !batch.collects(runId)) {
      throw new IllegalStateException("a fenced write outside its transaction");
    }
    batch.count(steps, tokens);
  }

  /**
   * Puts what the fenced transaction has counted for the run so far into its row, so that a read of
   * the row in the transaction sees it (a fence not yet sent carries it when the queue is sent).
   */
  void sendPending(WriteBatch w, String runId) {
    EventBatch batch = w.kept(EventBatch.class);
    if (batch != null && batch.collects(runId)) {
      batch.sendPending();
    }
  }

  /**
   * Appends an event to the run's stream: with the other events of the fenced transaction it is
   * part of, or else at once (numbered from the run's counter and inserted in one round trip).
   */
  public void appendEvent(WriteBatch w, String runId, String type, Object data) {
    EventBatch batch = w.kept(EventBatch.class);
    if (batch != null && batch.collects(runId)) {
      batch.add(type, data);
      return;
    }
    w.statement("""
            WITH numbered AS (
                UPDATE runs SET last_event_id = last_event_id + 1 WHERE id = :r RETURNING last_event_id)
            INSERT INTO run_event_batches (run_id, first_id, types, data)
            SELECT :r, last_event_id, ARRAY[cast(:type AS text)], cast(:data AS jsonb) FROM numbered""")
        .bind("r", runId).bind("type", type).bind("data", "[" + Json.write(mapper, data) + "]")
        .execute();
    afterCommit(w, notifier.appended(runId, RunEvent.FINAL.contains(type)));
  }

  /**
   * A run's first event. When its creation also begins it, it goes with the beginning's events (one
   * numbering of the run's row for all of them).
   */
  public void appendRunCreated(WriteBatch w, RunStore.RunState run) {
    appendEvent(w, run.id(), "run.created", java.util.Map.of("run_id", run.id(), "conversation_id", run.conversationId(),
        "agent_id", run.agentId(), "agent_version", run.agentVersion()));
  }

  public void appendMessage(WriteBatch w, String conversationId, String runId, String role, String content, List<ToolCall> calls,
      String toolCallId, String name) {
    String toolCalls = calls == null || calls.isEmpty() ? null : Json.write(mapper, calls);
    w.statement("""
            INSERT INTO messages (conversation_id, seq, run_id, role, content, tool_calls, tool_call_id, name)
            VALUES (:c, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = :c), :r, :role,
                    :content, cast(:calls AS jsonb), :tcid, :name)""")
        .bind("c", conversationId).bind("r", runId).bind("role", role).bind("content", content)
        .bind("calls", toolCalls).bind("tcid", toolCallId).bind("name", name)
        .execute();
  }
}
