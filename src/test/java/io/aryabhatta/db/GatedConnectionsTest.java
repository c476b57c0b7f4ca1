package io.aryabhatta.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.aryabhatta.testing.TestPostgres;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Threads take a real pool's connections in turn, and one that waits too long hears the database is busy. */
class GatedConnectionsTest {
  HikariDataSource pool;

  @BeforeEach
  void pool() {
    HikariConfig config = new HikariConfig();
    config.setDataSource(TestPostgres.freshDataSource());
    config.setPoolName("gated-test");
    config.setMaximumPoolSize(2);
    pool = new HikariDataSource(config);
  }

  @AfterEach
  void close() {
    pool.close();
  }

  @Test
  void many_threads_share_two_connections_and_every_connection_goes_back() throws Exception {
    GatedConnections gate = new GatedConnections(pool, "gated-test", 2, Duration.ofSeconds(10));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    gate.measureIn(registry);
    Jdbi jdbi = Jdbi.create(gate);
    AtomicInteger done = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      threads.add(Thread.ofVirtual().start(() -> {
        for (int j = 0; j < 10; j++) {
          jdbi.useTransaction(h -> h.createQuery("SELECT pg_sleep(0.001)").mapToMap().one());
        }
        done.incrementAndGet();
      }));
    }
    for (Thread thread : threads) {
      thread.join(Duration.ofSeconds(60));
    }

    assertThat(done.get()).isEqualTo(100);
    assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
    // All connections are back: two more handles open at once without waiting.
    try (Handle a = jdbi.open(); Handle b = jdbi.open()) {
      assertThat(a.createQuery("SELECT 1").mapTo(Integer.class).one()).isEqualTo(1);
      assertThat(b.createQuery("SELECT 1").mapTo(Integer.class).one()).isEqualTo(1);
    }
    String metrics = registry.scrape();
    assertThat(metrics).contains("aryabhatta_db_connection_wait_seconds_count{pool=\"gated-test\"} 1002");
    assertThat(metrics).contains("aryabhatta_db_connections_waiting{pool=\"gated-test\"} 0");
  }

  @Test
  void a_thread_that_waits_longer_than_the_timeout_is_told_the_database_is_busy_and_takes_nothing() {
    GatedConnections gate = new GatedConnections(pool, "gated-test", 2, Duration.ofMillis(300));
    Jdbi jdbi = Jdbi.create(gate);
    try (Handle a = jdbi.open(); Handle b = jdbi.open()) {
      // What the API answers with a 503 "the database is busy", as it did when the pool itself timed out.
      assertThatThrownBy(jdbi::open).isInstanceOf(ConnectionException.class)
          .hasRootCauseInstanceOf(SQLTransientConnectionException.class)
          .satisfies(e -> assertThat(DatabaseErrors.isOutage(e)).isTrue());
      a.createQuery("SELECT 1").mapTo(Integer.class).one();
    }
    try (Handle again = jdbi.open()) {
      assertThat(again.createQuery("SELECT 1").mapTo(Integer.class).one()).isEqualTo(1);
    }
  }
}
