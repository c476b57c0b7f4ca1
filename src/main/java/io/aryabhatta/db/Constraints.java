package io.aryabhatta.db;

import java.sql.SQLException;

/** Recognizes constraint violations that mean "someone else got there first". */
public final class Constraints {
  private static final String UNIQUE_VIOLATION = "23505";

  private Constraints() {}

  public static boolean isUniqueViolation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }
}
