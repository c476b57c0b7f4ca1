package io.aryabhatta.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;

/**
 * What kind of failure a database error is. A lost or refused connection, or a server that cannot
 * take the write now, is an outage, which a writer may wait out and try again; anything else (a
 * value PostgreSQL cannot store, a broken constraint, a bug in a statement) fails the same way
 * every time it is tried.
 */
public final class DatabaseErrors {
  /**
   * Server states that mean "not now" rather than "never": shutting down or starting, a read-only
   * server (a failover in progress), a serialization failure or deadlock (the transaction may be
   * tried again as it is); with class 53, out of connections, memory or disk.
   */
  private static final Set<String> NOT_NOW = Set.of("57P01", "57P02", "57P03", "25006", "40001", "40P01");

  private DatabaseErrors() {}

  /** The connection was lost or could not be had: the statement may succeed once the database is back. */
  public static boolean isOutage(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        return state.startsWith("08") || state.startsWith("53") || NOT_NOW.contains(state);
      }
    }
    return false;
  }

  /** The SQLSTATE of the first SQL exception in the chain, or null. */
  public static String sqlState(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }
}
