package io.aryabhatta.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real server as a separate operating-system process ({@code java … io.aryabhatta.Main serve}),
 * so that tests can {@code kill -9}, stop and continue it. Every instance given the same database
 * URL shares that database; the database itself lives in the test JVM (see {@link TestPostgres}),
 * so killing a server never takes it down. Output goes to {@code target/server-processes/}.
 */
public final class ServerProcess implements AutoCloseable {
  /** The fixed key encrypting secrets, shared by every process on one database. */
  private static final String SECRET_KEY = Base64.getEncoder().encodeToString(new byte[32]);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final HttpClient PROBE =
      HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).version(HttpClient.Version.HTTP_1_1).build();

  private final String name;
  private final Map<String, String> env;
  private final int port;
  private final Path logDir;
  private final Http admin;
  private Process process;

  private ServerProcess(String name, Map<String, String> env, int port, Path logDir) {
    this.name = name;
    this.env = env;
    this.port = port;
    this.logDir = logDir;
    this.admin = new Http(baseUrl(), TestServer.ADMIN_KEY);
  }

  /**
   * Starts a server on {@code databaseUrl} with a 2-second lease and HTTP tools allowed to reach
   * 127.0.0.1, and waits until it is ready.
   *
   * @param extraEnv more variables, overriding the defaults
   */
  public static ServerProcess start(String name, String databaseUrl, Map<String, String> extraEnv) {
    try {
      Map<String, String> env = new HashMap<>();
      env.put("HOST", "127.0.0.1");
      int port = freePort();
      env.put("PORT", Integer.toString(port));
      env.put("DB_CONNECTION_STRING", databaseUrl);
      env.put("ARYABHATTA_ADMIN_KEY", TestServer.ADMIN_KEY);
      env.put("ARYABHATTA_SECRET_KEY", SECRET_KEY);
      env.put("ARYABHATTA_DATA_DIR", Files.createTempDirectory("aryabhatta-process-data").toString());
      env.put("ARYABHATTA_LEASE_SECONDS", "2");
      env.put("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1");
      env.put("ARYABHATTA_RATE_LIMIT_PER_MINUTE", "0");
      env.put("ARYABHATTA_DB_POOL_SIZE", "8");
      env.putAll(extraEnv);
      Path logDir = Files.createDirectories(Path.of("target", "server-processes"));
      ServerProcess server = new ServerProcess(name, env, port, logDir);
      server.launch();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the process again (same port, same database) after it was killed or stopped. */
  public void restart() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is still running");
    }
    launch();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** A client with the admin key. */
  public Http admin() {
    return admin;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  /** {@code kill -9}: no shutdown hook runs, nothing is released. */
  public void kill() {
    signal("KILL");
    awaitExit(Duration.ofSeconds(10));
  }

  /** {@code kill -TERM}: the graceful shutdown path. */
  public void terminate() {
    terminate(Duration.ofSeconds(30));
  }

  /**
   * {@code kill -TERM}, then waits up to {@code maxWait} for the process to exit (it is killed
   * after that); returns how long it took to exit, or null when it had to be killed.
   */
  public Duration terminate(Duration maxWait) {
    long signalled = System.nanoTime();
    signal("TERM");
    boolean exited = awaitExit(maxWait);
    return exited ? Duration.ofNanos(System.nanoTime() - signalled) : null;
  }

  /** {@code kill -STOP}: the process freezes (as in a long GC pause) without noticing. */
  public void pause() {
    signal("STOP");
  }

  /** {@code kill -CONT}. */
  public void resume() {
    signal("CONT");
  }

  /** The node name the process announced when it last started ("Listening on … as node-…"). */
  public String node() {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Listening on \\S+ as (\\S+)").matcher(logTail(100_000));
    String node = null;
    while (m.find()) {
      node = m.group(1);
    }
    if (node == null) {
      throw new IllegalStateException(name + " has not announced its node name:\n" + logTail(30));
    }
    return node;
  }

  /** The last lines the process wrote, for failure messages. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(logFile());
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      resume();
      process.destroyForcibly();
      awaitExit(Duration.ofSeconds(10));
    }
  }

  private void launch() {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    // Start fast and small: these processes live for seconds.
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Xshare:auto"));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.aryabhatta.Main", "serve"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
    builder.environment().putAll(env);
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
    awaitReady();
  }

  private Path logFile() {
    return logDir.resolve(name + ".log");
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + " during start:\n"
            + logTail(30));
      }
      try {
        HttpResponse<Void> r = PROBE.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ready"))
            .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      AgentSetup.sleep(50);
    }
    close();
    throw new IllegalStateException(name + " was not ready within " + START_TIMEOUT + ":\n" + logTail(30));
  }

  private void signal(String signal) {
    if (process == null) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** True when the process exited by itself within {@code timeout}; otherwise it is killed. */
  private boolean awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        return false;
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
