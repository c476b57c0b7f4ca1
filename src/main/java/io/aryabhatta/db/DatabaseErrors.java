package io.aryabhatta.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;

/**
 * What kind of failure a database error is. Only a lost or refused connection is an outage, which
 * a writer may wait out and try again; anything else (a value PostgreSQL cannot store, a broken
 * constraint, a bug in a statement) fails the same way every time it is tried.
 */
public final class DatabaseErrors {
  /** Server states that mean "not now" rather than "never": shutting down, starting, out of connections. */
  private static final Set<String> UNAVAILABLE = Set.of("57P01", "57P02", "57P03", "53300", "55000");

  private DatabaseErrors() {}

  /** The connection was lost or could not be had: the statement may succeed once the database is back. */
  public static boolean isOutage(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        return state.startsWith("08") || UNAVAILABLE.contains(state);
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
