package io.aryabhatta.callbacks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.db.Rows;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.json.Json;
import java.time.Duration;
import java.time.Instant;
import io.aryabhatta.runs.RunStatus;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * The deliveries of runs' callbacks: queued by the transaction that ends a run, claimed under a
 * lease by one process at a time, each attempt recorded as it ends.
 */
public final class CallbackDeliveries {
  private static final String ENDED = RunStatus.sqlList(
      EnumSet.of(RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED));

  private final Jdbi jdbi;
  private final ObjectMapper mapper;

  public CallbackDeliveries(Jdbi jdbi, ObjectMapper mapper) {
    this.jdbi = jdbi;
    this.mapper = mapper;
  }

  /** A delivery claimed by this process for one attempt; {@code attemptsMade} before this one. */
  record Claimed(String id, String runId, String workspaceId, String url, int attemptsMade) {}

  /**
   * Claims up to {@code limit} deliveries that are due and that no live claim holds. A delivery
   * whose claim expired was being attempted by a process that stopped: that attempt is recorded as
   * interrupted (it may have reached the receiver) and counts as made.
   */
  List<Claimed> claimDue(String node, Duration lease, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            WITH due AS (
              SELECT id, lease_owner IS NOT NULL AS interrupted FROM callback_deliveries
              WHERE status = 'pending' AND next_attempt_at <= now()
                AND (lease_expires_at IS NULL OR lease_expires_at < now())
              ORDER BY next_attempt_at LIMIT :limit
              FOR UPDATE SKIP LOCKED)
            UPDATE callback_deliveries d
            SET lease_owner = :node,
                lease_expires_at = now() + make_interval(secs => cast(:lease_seconds AS float8)),
                attempts = CASE WHEN due.interrupted THEN d.attempts || jsonb_build_array(jsonb_build_object(
                    'attempt', d.attempt_count + 1, 'at', now(), 'status_code', NULL,
                    'error', 'interrupted: the process making this attempt stopped before recording its outcome',
                    'duration_ms', NULL)) ELSE d.attempts END,
                attempt_count = d.attempt_count + CASE WHEN due.interrupted THEN 1 ELSE 0 END,
                last_error = CASE WHEN due.interrupted THEN 'interrupted' ELSE d.last_error END
            FROM due WHERE d.id = due.id
            RETURNING d.id, d.run_id, d.workspace_id, d.url, d.attempt_count""")
        .bind("node", node).bind("lease_seconds", lease.toMillis() / 1000.0).bind("limit", limit)
        .map((rs, c) -> new Claimed(rs.getString("id"), rs.getString("run_id"), rs.getString("workspace_id"),
            rs.getString("url"), rs.getInt("attempt_count")))
        .list());
  }

  /**
   * Records an attempt's outcome and what follows: delivered, another attempt after {@code wait},
   * or failed. Only under this process's claim: an attempt that outlived its claim, which another
   * process may have taken since, records nothing (its receiver may then be called twice, with the
   * same delivery id).
   */
  void recordAttempt(Claimed claimed, String node, AttemptResult attempt, DeliveryStatus next, Duration wait) {
    ObjectNode entry = mapper.createObjectNode();
    entry.put("attempt", claimed.attemptsMade() + 1);
    entry.put("at", attempt.startedAt().toString());
    if (attempt.statusCode() == null) {
      entry.putNull("status_code");
    } else {
      entry.put("status_code", attempt.statusCode());
    }
    entry.put("error", attempt.error());
    entry.put("duration_ms", attempt.durationMs());
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE callback_deliveries
            SET status = :status, attempts = attempts || cast(:entry AS jsonb), attempt_count = attempt_count + 1,
                last_status_code = :code, last_error = :error,
                delivered_at = CASE WHEN :delivered THEN now() END,
                next_attempt_at = CASE WHEN :retry THEN now() + make_interval(secs => cast(:wait_seconds AS float8)) END,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE id = :id AND lease_owner = :node AND status = 'pending'""")
        .bind("status", next.wire()).bind("entry", Json.write(mapper, entry))
        .bind("code", attempt.statusCode()).bind("error", attempt.error())
        .bind("delivered", next == DeliveryStatus.DELIVERED).bind("retry", next == DeliveryStatus.PENDING)
        .bind("wait_seconds", wait.toMillis() / 1000.0)
        .bind("id", claimed.id()).bind("node", node)
        .execute());
  }

  /** Gives up on a delivery whose attempts were all used up by processes that stopped during them. */
  void giveUp(Claimed claimed, String node) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE callback_deliveries SET status = :failed, next_attempt_at = NULL, lease_owner = NULL,
                                           lease_expires_at = NULL
            WHERE id = :id AND lease_owner = :node AND status = 'pending'""")
        .bind("failed", DeliveryStatus.FAILED.wire()).bind("id", claimed.id()).bind("node", node).execute());
  }

  /** Lets the claims of this process go, so that its deliveries are attempted again soon (shutdown). */
  void release(String node) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE callback_deliveries SET lease_expires_at = now() WHERE lease_owner = :node AND status = 'pending'""")
        .bind("node", node).execute());
  }

  public Optional<CallbackDelivery> ofRun(String workspaceId, String runId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, run_id, url, status, attempt_count, attempts::text AS attempts, next_attempt_at,
                   last_status_code, last_error, delivered_at, created_at
            FROM callback_deliveries WHERE run_id = :r AND workspace_id = :w""")
        .bind("r", runId).bind("w", workspaceId)
        .map((rs, c) -> new CallbackDelivery(rs.getString("id"), rs.getString("run_id"), rs.getString("url"),
            DeliveryStatus.of(rs.getString("status")), rs.getInt("attempt_count"),
            Json.read(mapper, rs.getString("attempts")), Rows.instant(rs, "next_attempt_at"),
            (Integer) rs.getObject("last_status_code"), rs.getString("last_error"),
            Rows.instant(rs, "delivered_at"), Rows.instant(rs, "created_at")))
        .findOne());
  }

  /**
   * Queues the callback of a run that the statements before this one in {@code w} have just ended,
   * if it has a callback URL: in the transaction that ends it, so that a run never ends without
   * its callback queued, nor has it queued twice.
   */
  /** @return whether a delivery was queued, known once {@code w} has been sent (after its commit) */
  public static WriteBatch.Row<Boolean> queueOnEnd(WriteBatch w, String runId) {
    return w.statement("""
            INSERT INTO callback_deliveries (id, run_id, workspace_id, url, next_attempt_at)
            SELECT gen_random_uuid()::text, id, workspace_id, callback_url, now() FROM runs
            WHERE id = :id AND callback_url IS NOT NULL AND status IN (%s)
            ON CONFLICT (run_id) DO NOTHING
            RETURNING true""".formatted(ENDED))
        .bind("id", runId).readWithWrites(rs -> true);
  }

  /** What a delivery's attempt ended with. */
  record AttemptResult(Instant startedAt, Integer statusCode, String error, long durationMs) {
    boolean delivered() {
      return statusCode != null && statusCode >= 200 && statusCode < 300;
    }
  }
}
