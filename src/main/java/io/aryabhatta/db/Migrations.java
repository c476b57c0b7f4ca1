package io.aryabhatta.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * Applies the SQL files of the top-level {@code migrations/} folder, which the build copies onto
 * the classpath ({@code db/migration}): the same files whether the server runs from a checkout's
 * compiled classes or from the jar, in any working folder.
 */
public final class Migrations {
  private static final String LOCATION = "classpath:db/migration";

  private final Flyway flyway;

  public Migrations(DataSource dataSource) {
    this.flyway = Flyway.configure()
        .dataSource(dataSource)
        .locations(LOCATION)
        .failOnMissingLocations(true)
        .load();
  }

  /** Returns how many migrations were applied. */
  public int apply() {
    try {
      return flyway.migrate().migrationsExecuted;
    } catch (FlywayException e) {
      throw new DatabaseUnavailableException("database migration failed: " + e.getMessage(), e);
    }
  }

  /** True when every known migration has been applied. */
  public boolean upToDate() {
    return flyway.info().pending().length == 0;
  }
}
