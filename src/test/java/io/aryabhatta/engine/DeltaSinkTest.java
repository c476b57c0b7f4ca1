package io.aryabhatta.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.testing.TestPostgres;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A streamed answer's deltas, written while the model writes, against a real database. */
class DeltaSinkTest {
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

  @BeforeEach
  void leasedRun() {
    runId = "run_deltas" + runs.incrementAndGet();
    LeasedRun run = jdbi.inTransaction(h -> LeasedRun.insert(h, runId, "conv_" + runId));
    lease = run.lease();
    facts = run.facts();
  }

  private List<String> deltas() {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT data->>'text' FROM run_events WHERE run_id = :r AND type = 'message.delta' ORDER BY id""")
        .bind("r", runId).mapTo(String.class).list());
  }

  private void awaitDeltas(int count) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (deltas().size() < count && System.nanoTime() < deadline) {
      Pause.sleep(5);
    }
  }

  @Test
  void the_first_text_is_written_while_the_model_writes_and_the_rest_goes_with_the_answer() {
    DeltaSink sink = new DeltaSink(journal, lease, facts, true);
    sink.accept("Hello");
    awaitDeltas(1);
    sink.accept(", world");
    sink.settle();
    journal.write(lease, facts, f -> {
      sink.flush(f.w());
      return null;
    });

    assertThat(deltas()).containsExactly("Hello", ", world");
  }

  @Test
  void text_not_yet_taken_by_a_write_when_the_answer_is_complete_is_written_once_with_it() {
    DeltaSink sink = new DeltaSink(journal, lease, facts, true);
    for (int i = 0; i < 50; i++) {
      sink.accept("t" + i + " ");
    }
    sink.settle();
    journal.write(lease, facts, f -> {
      sink.flush(f.w());
      return null;
    });

    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      all.append("t").append(i).append(' ');
    }
    assertThat(String.join("", deltas())).isEqualTo(all.toString());
  }

  @Test
  void a_delta_write_that_finds_the_lease_lost_stops_the_model_call_and_writes_nothing_more() {
    DeltaSink sink = new DeltaSink(journal, lease, facts, true);
    jdbi.useHandle(h -> h.createUpdate("UPDATE runs SET lease_owner = 'node-b', lease_epoch = 4 WHERE id = :r")
        .bind("r", runId).execute());
    sink.accept("first words");

    long deadline = System.nanoTime() + 10_000_000_000L;
    RuntimeException stopped = null;
    while (stopped == null && System.nanoTime() < deadline) {
      try {
        sink.accept(" more");
        Pause.sleep(5);
      } catch (LeaseLostException e) {
        stopped = e;
      }
    }

    assertThat(stopped).as("the model call's thread hears of the lost lease").isNotNull();
    assertThatThrownBy(sink::settle).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> sink.flush(WriteBatch.immediate(null))).isInstanceOf(IllegalStateException.class);
    assertThat(deltas()).isEmpty();
    long lastEventId = jdbi.withHandle(h -> h.createQuery("SELECT last_event_id FROM runs WHERE id = :r")
        .bind("r", runId).mapTo(Long.class).one());
    assertThat(lastEventId).isZero();
  }

  @Test
  void an_answer_that_is_not_streamed_writes_its_text_only_with_the_answer() {
    DeltaSink sink = new DeltaSink(journal, lease, facts, false);
    sink.accept("the whole answer");
    Pause.sleep(50);
    assertThat(deltas()).isEmpty();

    sink.flush();

    assertThat(deltas()).containsExactly("the whole answer");
  }
}
