package io.aryabhatta.engine;

import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.db.WriteBatch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.json.Json;
import io.aryabhatta.testing.TestPostgres;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fence of the engine's writes, against a real database: a step's writes commit only while
 * its lease holds, and its events are numbered after the run's earlier ones.
 */
class JournalFenceTest {
  static Jdbi jdbi;
  static Journal journal;
  static final ObjectMapper mapper = Json.mapper();
  static final AtomicInteger runs = new AtomicInteger();

  String runId;
  Lease lease;
  Journal.RunFacts facts;

  @BeforeAll
  static void database() {
    jdbi = TestPostgres.freshMigratedJdbi();
    journal = LeasedRun.journal(jdbi, mapper, new EventNotifier());
  }

  /** A running run leased to "node-a" at epoch 3, with two events already in its stream. */
  @BeforeEach
  void leasedRun() {
    runId = "run_fence" + runs.incrementAndGet();
    String conversationId = "conv_" + runId;
    LeasedRun run = jdbi.inTransaction(h -> {
      LeasedRun inserted = LeasedRun.insert(h, runId, conversationId);
      journal.events().appendEvent(WriteBatch.immediate(h), runId, "run.created", Map.of());
      journal.events().appendEvent(WriteBatch.immediate(h), runId, "run.running", Map.of());
      return inserted;
    });
    lease = run.lease();
    facts = run.facts();
  }

  private void openModelCall(Journal.Fenced f) {
    journal.startModelCall(f, "{\"model\": \"m\"}", null, 0);
  }

  private List<String> events() {
    return jdbi.withHandle(h -> h.createQuery("SELECT id || ' ' || type FROM run_events WHERE run_id = :r ORDER BY id")
        .bind("r", runId).mapTo(String.class).list());
  }

  private Map<String, Object> run() {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT status, steps_count, last_event_id, prompt_tokens, total_tokens FROM runs WHERE id = :r""")
        .bind("r", runId).mapToMap().one());
  }

  private int steps() {
    return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM run_steps WHERE run_id = :r")
        .bind("r", runId).mapTo(Integer.class).one());
  }

  @Test
  void a_step_under_its_lease_commits_with_its_events_numbered_after_the_runs_earlier_ones() {
    journal.write(lease, facts, f -> {
      openModelCall(f);
      return null;
    });

    assertThat(steps()).isEqualTo(1);
    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 llm_call.started");
    assertThat(run()).containsEntry("steps_count", 1).containsEntry("last_event_id", 3L);
  }

  @Test
  void events_appended_after_the_writes_were_first_sent_follow_the_ones_sent_with_the_fence() {
    journal.write(lease, facts, f -> {
      openModelCall(f);
      // Failing the run reads its steps, which sends what is queued (the fence first) before it goes on.
      journal.failModelCall(f, 0, "model_error", "the model answered 500", List.of(), 12);
      return null;
    });

    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 llm_call.started", "4 run.failed");
    assertThat(run()).containsEntry("status", "failed").containsEntry("steps_count", 1)
        .containsEntry("last_event_id", 4L);
  }

  @Test
  void a_writer_whose_lease_was_taken_over_writes_nothing() {
    jdbi.useHandle(h -> h.createUpdate("UPDATE runs SET lease_owner = 'node-b', lease_epoch = 4 WHERE id = :r")
        .bind("r", runId).execute());

    assertThatThrownBy(() -> journal.write(lease, facts, f -> {
      openModelCall(f);
      return null;
    })).isInstanceOf(LeaseLostException.class);

    assertThat(steps()).isZero();
    assertThat(events()).hasSize(2);
    assertThat(run()).containsEntry("status", "running").containsEntry("steps_count", 0)
        .containsEntry("last_event_id", 2L);
  }

  @Test
  void a_cancel_that_arrived_makes_the_step_decide_again_with_nothing_of_its_first_try_written() {
    jdbi.useHandle(h -> h.createUpdate("UPDATE runs SET cancel_requested = true WHERE id = :r").bind("r", runId)
        .execute());
    AtomicInteger tries = new AtomicInteger();

    boolean sawCancel = journal.write(lease, facts, f -> {
      tries.incrementAndGet();
      if (f.cancelRequested()) {
        journal.cancelRun(f);
      } else {
        openModelCall(f);
      }
      return f.cancelRequested();
    });

    assertThat(sawCancel).isTrue();
    assertThat(tries).hasValue(2);
    assertThat(steps()).isZero();
    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 run.cancelled");
    assertThat(run()).containsEntry("status", "cancelled").containsEntry("steps_count", 0);
  }

  @Test
  void an_expired_lease_lets_the_step_commit_but_starts_no_tool() {
    jdbi.useHandle(h -> h.createUpdate("UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = :r")
        .bind("r", runId).execute());

    boolean live = journal.write(lease, facts, f -> {
      openModelCall(f);
      return f.live();
    });
    assertThat(live).isFalse();
    assertThat(steps()).isEqualTo(1);
    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 llm_call.started");

    assertThatThrownBy(() -> journal.write(lease, facts, f -> {
      journal.startTool(f, Step.outline(runId, 1, "tool_call", StepStatus.PENDING, "call_1", "t", "{}", "k"), null);
      return null;
    })).isInstanceOf(LeaseLostException.class);
  }

  @Test
  void a_cancel_found_by_a_send_in_the_middle_of_the_step_makes_it_decide_again() {
    jdbi.useHandle(h -> h.createUpdate("UPDATE runs SET cancel_requested = true WHERE id = :r").bind("r", runId)
        .execute());
    List<Boolean> cancelSeen = new ArrayList<>();

    journal.write(lease, facts, f -> {
      cancelSeen.add(f.cancelRequested());
      if (f.cancelRequested()) {
        journal.cancelRun(f);
      } else {
        openModelCall(f);
        // Reads the run's steps, so the fence is sent here, before the work is done.
        journal.failModelCall(f, 0, "model_error", "the model answered 500", List.of(), 12);
      }
      return null;
    });

    assertThat(cancelSeen).containsExactly(false, true);
    assertThat(steps()).isZero();
    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 run.cancelled");
    assertThat(run()).containsEntry("status", "cancelled");
  }

  @Test
  void a_cancel_committed_while_the_fence_waits_for_the_runs_row_is_seen() throws Exception {
    List<Boolean> cancelSeen = Collections.synchronizedList(new ArrayList<>());
    try (Handle other = jdbi.open()) {
      other.begin();
      other.createUpdate("UPDATE runs SET cancel_requested = true WHERE id = :r").bind("r", runId).execute();
      Thread step = Thread.ofVirtual().start(() -> journal.write(lease, facts, f -> {
        cancelSeen.add(f.cancelRequested());
        if (f.cancelRequested()) {
          journal.cancelRun(f);
        } else {
          openModelCall(f);
        }
        return null;
      }));
      // The step's fence waits for the row the cancel holds; it must judge the row as committed.
      Thread.sleep(300);
      assertThat(step.isAlive()).isTrue();
      other.commit();
      step.join(10_000);
      assertThat(step.isAlive()).isFalse();
    }

    assertThat(cancelSeen).containsExactly(false, true);
    assertThat(steps()).isZero();
    assertThat(events()).containsExactly("1 run.created", "2 run.running", "3 run.cancelled");
  }
}
