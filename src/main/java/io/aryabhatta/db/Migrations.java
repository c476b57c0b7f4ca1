package io.aryabhatta.db;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * Applies the SQL files of the top-level {@code migrations/} folder. The same files are packaged
 * in the jar, so {@code java -jar} works from any folder.
 */
public final class Migrations {
  private final Flyway flyway;

  public Migrations(DataSource dataSource) {
    this(dataSource, location());
  }

  private Migrations(DataSource dataSource, String location) {
    this.flyway = Flyway.configure()
        .dataSource(dataSource)
        .locations(location)
        .failOnMissingLocations(true)
        .load();
  }

  /**
   * Always the jar's copy: an application embedding the engine may run from a folder of its own
   * that happens to have a {@code migrations/} folder and a {@code pom.xml}.
   */
  public static Migrations packaged(DataSource dataSource) {
    return new Migrations(dataSource, "classpath:db/migration");
  }

  private static String location() {
    // Running from a checkout, the folder is the source of truth; elsewhere the jar's copy is.
    Path folder = Path.of("migrations");
    return Files.isDirectory(folder) && Files.exists(Path.of("pom.xml"))
        ? "filesystem:" + folder.toAbsolutePath()
        : "classpath:db/migration";
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
