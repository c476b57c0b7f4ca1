package io.aryabhatta.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jdbi.v3.core.ConnectionFactory;

/**
 * The pool's connections, taken in turn: a thread waits for a permit (one per connection of the
 * pool, first come first served) before it asks the pool for one, so the pool itself never has a
 * waiter. HikariCP hands a returned connection to a waiter by spinning until one takes it, and
 * asks its connection adder to grow the pool for every waiter; with hundreds of runs' virtual
 * threads waiting for a few connections, that was CPU spent on waiting. Parked on a semaphore,
 * a waiter costs nothing until a connection is free.
 */
final class GatedConnections implements ConnectionFactory {
  private final DataSource pool;
  private final Semaphore permits;
  private final Duration timeout;
  private final String poolName;
  /** The waits for a permit, once metrics are on (null: not measured). */
  private volatile Timer waits;

  /**
   * @param size the pool's number of connections
   * @param timeout how long a thread waits for a permit before it is told the database is busy
   */
  GatedConnections(DataSource pool, String poolName, int size, Duration timeout) {
    this.pool = pool;
    this.poolName = poolName;
    this.permits = new Semaphore(size, true);
    this.timeout = timeout;
  }

  /** Publishes the waits for a connection and the number of threads waiting (the pool itself has none). */
  void measureIn(MeterRegistry registry) {
    Gauge.builder("aryabhatta_db_connections_waiting", permits, Semaphore::getQueueLength)
        .description("Threads waiting for a database connection").tag("pool", poolName).register(registry);
    waits = Timer.builder("aryabhatta_db_connection_wait")
        .description("Time a thread waited for a database connection (zero when one was free)").tag("pool", poolName)
        .register(registry);
  }

  @Override
  public Connection openConnection() throws SQLException {
    long started = System.nanoTime();
    try {
      boolean acquired = permits.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Timer timer = waits;
      if (timer != null) {
        timer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      }
      if (!acquired) {
        // The pool's own exception for the same wait: the API answers it with a 503.
        throw new SQLTransientConnectionException(
            poolName + " - Connection is not available, request timed out after " + timeout.toMillis() + "ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException(poolName + " - Interrupted during connection acquisition", e);
    }
    boolean taken = false;
    try {
      Connection connection = pool.getConnection();
      taken = true;
      return connection;
    } finally {
      if (!taken) {
        permits.release();
      }
    }
  }

  @Override
  public void closeConnection(Connection connection) throws SQLException {
    try {
      connection.close();
    } finally {
      permits.release();
    }
  }
}
