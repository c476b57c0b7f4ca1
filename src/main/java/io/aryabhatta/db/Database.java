package io.aryabhatta.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.aryabhatta.config.Config;
import io.aryabhatta.config.DatabaseUrl;
import java.sql.SQLException;
import java.time.Duration;
import io.micrometer.core.instrument.MeterRegistry;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.argument.AbstractArgumentFactory;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.config.ConfigRegistry;
import java.sql.Types;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The connection pool and JDBI on top of the configured or the embedded PostgreSQL. */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final EmbeddedDatabase embedded;
  private final HikariDataSource dataSource;
  private final GatedConnections connections;
  private final Jdbi jdbi;

  private Database(EmbeddedDatabase embedded, HikariDataSource dataSource) {
    this.embedded = embedded;
    this.dataSource = dataSource;
    this.connections = new GatedConnections(dataSource, dataSource.getPoolName(), dataSource.getMaximumPoolSize(),
        Duration.ofMillis(dataSource.getConnectionTimeout()));
    this.jdbi = configured(Jdbi.create(connections));
  }

  /** The pool's metrics, and the waits for its connections, go to {@code registry}. */
  public void measureIn(MeterRegistry registry) {
    dataSource.setMetricRegistry(registry);
    connections.measureIn(registry);
  }

  /** JDBI on {@code dataSource}, with the plugins the services rely on. */
  public static Jdbi jdbi(DataSource dataSource) {
    return configured(Jdbi.create(dataSource));
  }

  private static Jdbi configured(Jdbi jdbi) {
    jdbi.installPlugin(new SqlObjectPlugin()).installPlugin(new PostgresPlugin());
    // A state is stored by its own name ("requires_action"), not by its Java constant's.
    jdbi.registerArgument(new AbstractArgumentFactory<WireName>(Types.VARCHAR) {
      @Override
      protected Argument build(WireName value, ConfigRegistry config) {
        return (position, statement, context) -> statement.setString(position, value.wire());
      }
    });
    return jdbi;
  }

  public static Database open(Config config) {
    if (config.database().isPresent()) {
      DatabaseUrl url = config.database().get();
      log.info("Database: external PostgreSQL at {}", url.describe());
      return new Database(null, pool(url, config.dbPoolSize(), "DB_CONNECTION_STRING"));
    }
    EmbeddedDatabase embedded = EmbeddedDatabase.start(config.embeddedDatabaseDir(), true);
    try {
      DatabaseUrl url = new DatabaseUrl(embedded.jdbcUrl(EmbeddedDatabase.DATABASE), "postgres", null);
      log.info("Database: embedded PostgreSQL on 127.0.0.1:{}, data in {}", embedded.port(), config.embeddedDatabaseDir());
      return new Database(embedded, pool(url, config.dbPoolSize(), "ARYABHATTA_DATA_DIR"));
    } catch (RuntimeException e) {
      embedded.close();
      throw e;
    }
  }

  private static HikariDataSource pool(DatabaseUrl url, int size, String variable) {
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("aryabhatta");
    hikari.setJdbcUrl(url.jdbcUrl());
    if (url.user() != null) {
      hikari.setUsername(url.user());
    }
    if (url.password() != null) {
      hikari.setPassword(url.password());
    }
    hikari.setMaximumPoolSize(size);
    hikari.setMinimumIdle(Math.min(2, size));
    hikari.setConnectionTimeout(10_000);
    hikari.setInitializationFailTimeout(15_000);
    try {
      return new HikariDataSource(hikari);
    } catch (RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      throw new DatabaseUnavailableException(
          variable + ": cannot connect to PostgreSQL at " + url.describe() + " (" + root.getMessage() + ")", e);
    }
  }

  public Jdbi jdbi() {
    return jdbi;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** True when a connection can be taken and answers a query within two seconds. */
  public boolean reachable() {
    try (var conn = dataSource.getConnection()) {
      return conn.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  public HikariDataSource pool() {
    return dataSource;
  }

  /**
   * The embedded PostgreSQL, if any, is then stopped only by {@link #close}: for an owner that
   * closes this database from its own shutdown hook, after its last writes.
   */
  public void stopOnlyWhenClosed() {
    if (embedded != null) {
      embedded.stopOnlyWhenClosed();
    }
  }

  @Override
  public void close() {
    dataSource.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}
