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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * Journal writes whose tries cross on the way to a real database: a first try still committing
 * when its writer asks whether it landed, and a first try delivered only after its writer gave it
 * up and went on to the next write. Each write must be applied exactly once.
 */
class JournalRaceTest {
  static final ObjectMapper mapper = Json.mapper();
  enum Mode { PASS, DROP_BEFORE, BACKGROUND }
  final AtomicReference<Mode> mode = new AtomicReference<>(Mode.PASS);
  volatile CountDownLatch deliver = new CountDownLatch(0);
  final CountDownLatch backgroundDone = new CountDownLatch(1);
  final AtomicReference<Throwable> backgroundError = new AtomicReference<>();
  PGSimpleDataSource real;
  Jdbi jdbi;
  Journal journal;
  String runId = "run_race";
  Lease lease;
  Journal.RunFacts facts;

  @BeforeEach
  void setUp() {
    real = TestPostgres.freshDataSource();
    new Migrations(real).apply();
    jdbi = Database.jdbi(faulty(real));
    journal = LeasedRun.journal(jdbi, mapper, new EventNotifier());
    LeasedRun run = jdbi.inTransaction(h -> LeasedRun.insert(h, runId, "c1"));
    lease = run.lease();
    facts = run.facts();
  }

  DataSource faulty(PGSimpleDataSource real) {
    return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
        (p, m, a) -> {
          if (m.getName().equals("getConnection")) {
            return connection(real.getConnection());
          }
          try { return m.invoke(real, a); } catch (InvocationTargetException e) { throw e.getCause(); }
        });
  }

  Connection connection(Connection c) {
    boolean[] detached = {false};
    return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
        (p, m, a) -> {
          if (detached[0]) {
            if (m.getName().equals("close")) return null;
            if (m.getName().equals("isClosed")) return true;
            throw new PSQLException("connection is gone (test)", PSQLState.CONNECTION_FAILURE);
          }
          Object r;
          try { r = m.invoke(c, a); } catch (InvocationTargetException e) { throw e.getCause(); }
          if (m.getName().equals("prepareStatement") && a[0] instanceof String sql && sql.contains("COMMIT")) {
            PreparedStatement ps = (PreparedStatement) r;
            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class},
                (p2, m2, a2) -> {
                  if (detached[0] && m2.getName().equals("close")) {
                    return null;
                  }
                  if (m2.getName().equals("execute")) {
                    Mode now = mode.getAndSet(Mode.PASS);
                    if (now == Mode.DROP_BEFORE) {
                      detached[0] = true;
                      c.close();
                      throw new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
                    }
                    if (now == Mode.BACKGROUND) {
                      detached[0] = true;
                      CountDownLatch gate = deliver;
                      Thread.ofPlatform().start(() -> {
                        try {
                          gate.await();
                          ps.execute();
                        } catch (Throwable t) {
                          backgroundError.set(t);
                        } finally {
                          try { c.close(); } catch (SQLException ignored) { }
                          backgroundDone.countDown();
                        }
                      });
                      throw new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
                    }
                  }
                  try { return m2.invoke(ps, a2); } catch (InvocationTargetException e) { throw e.getCause(); }
                });
          }
          return r;
        });
  }

  List<String> events() {
    return jdbi.withHandle(h -> h.createQuery("SELECT id || ' ' || type FROM run_events WHERE run_id = :r ORDER BY id")
        .bind("r", runId).mapTo(String.class).list());
  }

  int messages() {
    return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM messages WHERE conversation_id = 'c1'")
        .mapTo(Integer.class).one());
  }

  @Test
  void a_commit_lost_before_it_landed_with_null_last_write_is_written_once() {
    mode.set(Mode.DROP_BEFORE);
    AtomicInteger after = new AtomicInteger();
    journal.write(lease, facts, f -> {
      journal.events().appendEvent(f.w(), runId, "message.delta", Map.of("text", "hello"));
      journal.events().afterCommit(f.w(), after::incrementAndGet);
      return null;
    });
    assertThat(events()).containsExactly("1 message.delta");
    assertThat(after.get()).isEqualTo(1);
  }

  @Test
  void a_first_commit_still_in_progress_when_its_writer_asks_is_applied_once() throws Exception {
    Connection locker = real.getConnection();
    locker.setAutoCommit(false);
    locker.createStatement().execute("SELECT 1 FROM runs WHERE id = '" + runId + "' FOR UPDATE");
    Thread.ofPlatform().start(() -> {
      try { Thread.sleep(1500); locker.commit(); locker.close(); } catch (Exception e) { throw new RuntimeException(e); }
    });
    mode.set(Mode.BACKGROUND);
    AtomicInteger after = new AtomicInteger();
    AtomicInteger workRuns = new AtomicInteger();
    journal.write(lease, facts, f -> {
      workRuns.incrementAndGet();
      journal.events().appendEvent(f.w(), runId, "message.delta", Map.of("text", "hello"));
      journal.events().appendMessage(f.w(), "c1", runId, "tool", "result", null, "call_1", "charge");
      journal.events().afterCommit(f.w(), after::incrementAndGet);
      return null;
    });
    assertThat(backgroundDone.await(10, TimeUnit.SECONDS)).isTrue();
    System.err.println("REVIEW in-progress: work ran " + workRuns.get() + " times; background error: " + backgroundError.get());
    assertThat(events()).containsExactly("1 message.delta");
    assertThat(messages()).isEqualTo(1);
    assertThat(after.get()).isEqualTo(1);
  }

  @Test
  void a_first_try_delivered_after_the_next_write_is_refused() throws Exception {
    deliver = new CountDownLatch(1);
    mode.set(Mode.BACKGROUND);
    journal.write(lease, facts, f -> {
      journal.events().appendEvent(f.w(), runId, "message.delta", Map.of("text", "W1"));
      journal.events().appendMessage(f.w(), "c1", runId, "tool", "result", null, "call_1", "charge");
      return null;
    });
    journal.write(lease, facts, f -> {
      journal.events().appendEvent(f.w(), runId, "message.delta", Map.of("text", "W2"));
      return null;
    });
    deliver.countDown();
    assertThat(backgroundDone.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(messages()).as("W1's tool message once").isEqualTo(1);
  }
}
