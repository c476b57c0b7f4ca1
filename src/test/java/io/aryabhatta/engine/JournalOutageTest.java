package io.aryabhatta.engine;

import io.aryabhatta.runs.EventNotifier;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.Database;
import io.aryabhatta.db.Migrations;
import io.aryabhatta.json.Json;
import io.aryabhatta.testing.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * Journal writes through a database that fails at the worst moment: the connection breaks right
 * after a commit was executed, so the writer never learns that it landed, and the next connections
 * are refused for a while. The database is real; only the connection is cut, as a network would.
 */
class JournalOutageTest {
  static final ObjectMapper mapper = Json.mapper();
  /** Next statement containing COMMIT: execute for real, then break the connection. */
  final AtomicBoolean dropAfterCommit = new AtomicBoolean();
  /** Refuse this many getConnection calls (an outage). */
  final AtomicInteger refuse = new AtomicInteger();
  int refuseAfterDrop = 1;
  Jdbi jdbi;
  Journal journal;
  EventNotifier notifier;
  String runId = "run_outage";
  Lease lease;
  Journal.RunFacts facts;

  @BeforeEach
  void setUp() {
    PGSimpleDataSource real = TestPostgres.freshDataSource();
    new Migrations(real).apply();
    jdbi = Database.jdbi(faulty(real));
    notifier = new EventNotifier();
    journal = LeasedRun.journal(jdbi, mapper, notifier);
    LeasedRun run = jdbi.inTransaction(h -> LeasedRun.insert(h, runId, "c1"));
    lease = run.lease();
    facts = run.facts();
  }

  DataSource faulty(PGSimpleDataSource real) {
    return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
        (p, m, a) -> {
          if (m.getName().equals("getConnection")) {
            if (refuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              throw new SQLTransientConnectionException("refused (test outage)", "08001");
            }
            return connection(real.getConnection());
          }
          try {
            return m.invoke(real, a);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  Connection connection(Connection c) {
    return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
        (p, m, a) -> {
          Object r;
          try {
            r = m.invoke(c, a);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (m.getName().equals("prepareStatement") && a[0] instanceof String sql && sql.contains("COMMIT")) {
            PreparedStatement ps = (PreparedStatement) r;
            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class},
                (p2, m2, a2) -> {
                  Object r2;
                  try {
                    r2 = m2.invoke(ps, a2);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                  if (m2.getName().equals("execute") && dropAfterCommit.compareAndSet(true, false)) {
                    c.close();
                    refuse.set(refuseAfterDrop); // the landed() check meets the outage
                    throw new PSQLException("An I/O error occurred while sending to the backend.",
                        PSQLState.CONNECTION_FAILURE);
                  }
                  return r2;
                });
          }
          return r;
        });
  }

  List<String> events() {
    return jdbi.withHandle(h -> h.createQuery("SELECT id || ' ' || type FROM run_events WHERE run_id = :r ORDER BY id")
        .bind("r", runId).mapTo(String.class).list());
  }

  @Test
  void a_commit_that_landed_without_an_answer_is_not_written_again_while_the_database_is_away() {
    dropAfterCommit.set(true);
    journal.write(lease, facts, f -> {
      journal.startModelCall(f, "{\"model\": \"m\"}", null, 0);
      return null;
    });
    assertThat(events()).containsExactly("1 llm_call.started");
    int steps = jdbi.withHandle(h -> h.createQuery("SELECT steps_count FROM runs WHERE id = :r").bind("r", runId)
        .mapTo(Integer.class).one());
    assertThat(steps).isEqualTo(1);
  }

  @Test
  void events_and_messages_of_a_commit_that_landed_without_an_answer_are_appended_once() {
    dropAfterCommit.set(true);
    journal.write(lease, facts, f -> {
      journal.events().appendEvent(f.w(), runId, "message.delta", Map.of("text", "hello"));
      journal.events().appendMessage(f.w(), "c1", runId, "tool", "result", null, "call_1", "charge");
      return null;
    });
    assertThat(events()).containsExactly("1 message.delta");
    int messages = jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM messages WHERE conversation_id = 'c1'")
        .mapTo(Integer.class).one());
    assertThat(messages).isEqualTo(1);
  }

  @Test
  void a_settling_write_that_landed_without_an_answer_returns_and_wakes_its_waiters() throws Exception {
    jdbi.useHandle(h -> h.createUpdate("""
            INSERT INTO run_steps (run_id, idx, type, status, started_at, request)
            VALUES (:r, 0, 'llm_call', 'started', now(), '{}')""").bind("r", runId).execute());
    refuseAfterDrop = 0;
    dropAfterCommit.set(true);
    try (EventNotifier.Subscription waiting = notifier.subscribe(runId)) {
      journal.write(lease, facts, f -> {
        journal.failRun(f, "x", "y");
        return null;
      });

      long started = System.nanoTime();
      waiting.awaitSettling(5_000);
      assertThat((System.nanoTime() - started) / 1_000_000).as("woken, not timed out").isLessThan(2_000);
    }
    assertThat(events()).containsExactly("1 run.failed");
  }
}
