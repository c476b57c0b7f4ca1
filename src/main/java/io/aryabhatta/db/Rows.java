package io.aryabhatta.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

/** Reading column values that JDBC does not map the way the records want them. */
public final class Rows {
  private Rows() {}

  /** A {@code timestamptz} column as an {@link Instant}, or null. */
  public static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }
}
