package io.aryabhatta.db;

import io.aryabhatta.runs.Run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.aryabhatta.testing.Http;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The real server as a separate process on the embedded PostgreSQL with its durable settings:
 * subcommands, startup errors, restart, and restart after {@code kill -9}. The tests share one
 * data folder and run in order; each start is bounded.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerProcessTest {
  private static final String ADMIN_KEY = "process-admin-key-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final List<String> CONFIG_VARIABLES = List.of("DB_CONNECTION_STRING", "HOST", "PORT",
      "HF_API_URL", "HUGGING_FACE_AUTH_TOKEN");

  private static Path root;
  private static Path dataDir;
  private static final List<Path> dataDirs = new ArrayList<>();
  private static Process server;
  private static int port;
  private static int runs;
  private static String survivorId;
  private static Path lastOutput;

  @BeforeAll
  static void folders() throws IOException {
    root = Files.createTempDirectory("aryabhatta-process");
    dataDir = root.resolve("data");
    dataDirs.add(dataDir);
  }

  @AfterAll
  static void cleanUp() {
    if (server != null && server.isAlive()) {
      stop(server);
    }
    dataDirs.forEach(ServerProcessTest::killLeftoverPostgres);
  }

  @Test
  @Order(1)
  void version_prints_the_version() throws Exception {
    Run run = run(root, Map.of(), "version");
    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout().strip()).matches("aryabhatta \\S+");
  }

  @Test
  @Order(2)
  void bad_config_value_exits_with_one_line_naming_the_variable() throws Exception {
    Run run = run(root, Map.of("PORT", "seventy", "ARYABHATTA_DATA_DIR", dataDir.toString()), "serve");
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.stderrLines()).singleElement().asString().contains("PORT").contains("seventy");
    assertThat(run.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  @Order(3)
  void bad_value_in_dotenv_of_the_working_directory_stops_startup() throws Exception {
    Path workDir = Files.createDirectories(root.resolve("with-dotenv"));
    Path otherData = workDir.resolve("data");
    dataDirs.add(otherData);
    Files.writeString(workDir.resolve(".env"), "ARYABHATTA_LEASE_SECONDS=soon\nARYABHATTA_DATA_DIR=" + otherData + "\n");
    Run run = run(workDir, Map.of("PORT", Integer.toString(freePort())), "serve");
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.stderrLines()).singleElement().asString().contains("ARYABHATTA_LEASE_SECONDS");
  }

  @Test
  @Order(4)
  void migrate_subcommand_migrates_and_exits_0() throws Exception {
    Run run = run(root, Map.of("ARYABHATTA_DATA_DIR", dataDir.toString()), "migrate");
    assertThat(run.exitCode()).as(run.stdout() + run.stderr()).isZero();
    assertThat(run.stdout()).containsPattern("Applied [1-9][0-9]* migration\\(s\\); the database is up to date");
    assertThat(postmaster(dataDir)).as("the embedded PostgreSQL is stopped on exit").isEmpty();
  }

  @Test
  @Order(5)
  void restart_keeps_data() throws Exception {
    server = startServer();
    assertThat(read(lastOutput)).contains("Database: embedded PostgreSQL on 127.0.0.1");
    assertThat(embeddedSetting("fsync")).isEqualTo("on");
    assertThat(embeddedSetting("synchronous_commit")).isEqualTo("on");
    var created = client().post("/api/workspaces", Map.of("name", "survivor"));
    assertThat(created.status()).isEqualTo(201);
    survivorId = created.json().get("id").asText();

    Path firstOutput = lastOutput;
    stop(server);
    assertThat(postmaster(dataDir)).as("a stopped server stops its PostgreSQL").isEmpty();
    String log = read(firstOutput);
    assertThat(log.substring(log.indexOf("Shutting down")))
        .as("PostgreSQL stops after the server's last writes (releasing its leases)")
        .doesNotContain("WARN", "ERROR");

    server = startServer();
    var found = client().get("/api/workspaces/" + survivorId);
    assertThat(found.status()).isEqualTo(200);
    assertThat(found.json().get("name").asText()).isEqualTo("survivor");
  }

  @Test
  @Order(6)
  void restart_after_kill_9_stops_the_leftover_postgres_and_keeps_data() throws Exception {
    assertThat(server).as("started by restart_keeps_data").isNotNull();
    assertThat(server.isAlive()).isTrue();
    ProcessHandle leftover = postmaster(dataDir).orElseThrow();

    server.destroyForcibly().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(leftover.isAlive()).as("kill -9 of the server leaves its PostgreSQL running").isTrue();

    server = startServer();
    assertThat(leftover.isAlive()).isFalse();
    assertThat(client().get("/api/workspaces/" + survivorId).status()).isEqualTo(200);
    assertThat(client().post("/api/workspaces", Map.of("name", "after-crash")).status()).isEqualTo(201);
  }

  @Test
  @Order(7)
  void second_server_on_the_same_data_folder_refuses_and_leaves_the_first_running() throws Exception {
    assertThat(server.isAlive()).isTrue();
    ProcessHandle running = postmaster(dataDir).orElseThrow();
    Run second = run(root, Map.of("PORT", Integer.toString(freePort()), "ARYABHATTA_DATA_DIR", dataDir.toString(),
        "ARYABHATTA_ADMIN_KEY", ADMIN_KEY), "serve");
    assertThat(second.exitCode()).isNotZero();
    assertThat(second.stderrLines()).singleElement().asString().contains("in use");
    assertThat(running.isAlive()).isTrue();
    assertThat(client().get("/ready").status()).isEqualTo(200);
  }

  @Test
  @Order(8)
  void port_in_use_exits_with_one_line_naming_PORT() throws Exception {
    if (server != null) {
      stop(server);
    }
    try (ServerSocket taken = new ServerSocket(0)) {
      Run run = run(root, Map.of("PORT", Integer.toString(taken.getLocalPort()),
          "ARYABHATTA_DATA_DIR", dataDir.toString(), "ARYABHATTA_ADMIN_KEY", ADMIN_KEY), "serve");
      assertThat(run.exitCode()).isNotZero();
      assertThat(run.stderrLines()).singleElement().asString().contains("PORT");
    }
    assertThat(postmaster(dataDir)).isEmpty();
  }

  // --- helpers ---

  private record Run(int exitCode, String stdout, String stderr) {
    List<String> stderrLines() {
      return stderr.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  private static Http client() {
    return new Http("http://127.0.0.1:" + port, ADMIN_KEY);
  }

  private static ProcessBuilder java(Path workDir, Map<String, String> env, String command) {
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
        "io.aryabhatta.Main", command).directory(workDir.toFile());
    Map<String, String> environment = pb.environment();
    environment.keySet().removeIf(k -> k.startsWith("ARYABHATTA_") || CONFIG_VARIABLES.contains(k));
    environment.putAll(env);
    int n = ++runs;
    pb.redirectOutput(root.resolve("run-" + n + ".out").toFile());
    pb.redirectError(root.resolve("run-" + n + ".err").toFile());
    return pb;
  }

  /** Runs a command that is expected to end by itself within the bound. */
  private static Run run(Path workDir, Map<String, String> env, String command) throws Exception {
    ProcessBuilder pb = java(workDir, env, command);
    Process process = pb.start();
    if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      stop(process);
      fail("'" + command + "' did not exit within " + WAIT + ": " + read(pb.redirectOutput().file().toPath()));
    }
    return new Run(process.exitValue(), read(pb.redirectOutput().file().toPath()),
        read(pb.redirectError().file().toPath()));
  }

  private static Process startServer() throws Exception {
    port = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("PORT", Integer.toString(port));
    env.put("ARYABHATTA_DATA_DIR", dataDir.toString());
    env.put("ARYABHATTA_ADMIN_KEY", ADMIN_KEY);
    ProcessBuilder pb = java(root, env, "serve");
    lastOutput = pb.redirectOutput().file().toPath();
    long started = System.nanoTime();
    Process process = pb.start();
    Http anonymous = new Http("http://127.0.0.1:" + port, null);
    while (System.nanoTime() - started < WAIT.toNanos()) {
      if (!process.isAlive()) {
        fail("the server exited with " + process.exitValue() + ": " + read(pb.redirectOutput().file().toPath())
            + read(pb.redirectError().file().toPath()));
      }
      try {
        if (anonymous.get("/ready").status() == 200) {
          System.out.printf("server ready after %d ms%n", Duration.ofNanos(System.nanoTime() - started).toMillis());
          return process;
        }
      } catch (IllegalStateException notListeningYet) {
        // retry
      }
      Thread.sleep(100);
    }
    stop(process);
    fail("the server was not ready within " + WAIT + ": " + read(pb.redirectOutput().file().toPath()));
    return null;
  }

  /** SIGTERM, as a service manager stops it; SIGKILL if it does not exit in time. */
  private static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        fail("the server did not stop within " + WAIT + " of SIGTERM");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A setting of the running embedded PostgreSQL, whose port is line 4 of postmaster.pid. */
  private static String embeddedSetting(String name) throws Exception {
    List<String> pidFile = Files.readAllLines(dataDir.resolve("postgres").resolve("postmaster.pid"));
    String url = "jdbc:postgresql://127.0.0.1:" + pidFile.get(3).strip() + "/aryabhatta?user=postgres";
    try (var connection = java.sql.DriverManager.getConnection(url);
        var rs = connection.createStatement().executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static Optional<ProcessHandle> postmaster(Path data) {
    Path pidFile = data.resolve("postgres").resolve("postmaster.pid");
    try {
      if (!Files.exists(pidFile)) {
        return Optional.empty();
      }
      String first = Files.readAllLines(pidFile).stream().findFirst().orElse("").strip();
      return first.isEmpty() ? Optional.empty()
          : ProcessHandle.of(Long.parseLong(first))
              .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static void killLeftoverPostgres(Path data) {
    postmaster(data).ifPresent(p -> {
      p.destroy();
      try {
        p.onExit().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroyForcibly();
      }
    });
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }
}
