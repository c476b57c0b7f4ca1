package io.aryabhatta.testing;

import io.aryabhatta.db.Database;
import io.aryabhatta.db.EmbeddedDatabase;
import io.aryabhatta.db.Migrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One embedded PostgreSQL per test JVM (fsync off for speed); every test class gets a fresh
 * database in it.
 */
public final class TestPostgres {
  private static EmbeddedDatabase instance;
  private static final AtomicInteger counter = new AtomicInteger();

  private TestPostgres() {}

  public static synchronized EmbeddedDatabase instance() {
    if (instance == null) {
      try {
        Path dir = Files.createTempDirectory("aryabhatta-test-pg");
        instance = EmbeddedDatabase.start(dir.resolve("postgres"), false);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return instance;
  }

  /** Creates an empty database and returns its JDBC URL (user postgres, no password). */
  public static String freshDatabase() {
    String name = "t" + ProcessHandle.current().pid() + "_" + counter.incrementAndGet();
    try (var conn = instance().adminDataSource().getConnection();
        var st = conn.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return instance().jdbcUrl(name);
  }

  /** The name of the database a JDBC URL of {@link #freshDatabase} points at. */
  public static String databaseName(String jdbcUrl) {
    String path = jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1);
    int query = path.indexOf('?');
    return query < 0 ? path : path.substring(0, query);
  }

  /** A connection of the test's own to the database at {@code jdbcUrl} (e.g. a server's), autocommit. */
  public static Connection connect(String jdbcUrl) {
    try {
      return DriverManager.getConnection(jdbcUrl);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A superuser connection to the cluster's {@code postgres} maintenance database: it stays up
   * while a test makes another database refuse connections.
   */
  public static Connection adminConnection() {
    try {
      return instance().adminDataSource().getConnection();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An empty database of its own. */
  public static PGSimpleDataSource freshDataSource() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(freshDatabase());
    return ds;
  }

  /** A database of its own with every migration applied, and a Jdbi on it set up as the server's. */
  public static Jdbi freshMigratedJdbi() {
    PGSimpleDataSource ds = freshDataSource();
    new Migrations(ds).apply();
    return Database.jdbi(ds);
  }
}
