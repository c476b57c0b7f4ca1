package io.aryabhatta.bench;

import io.aryabhatta.Main;
import io.aryabhatta.RunningServer;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.workspaces.Caller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * The server under test, started in this JVM exactly as {@code aryabhatta serve} starts it
 * (embedded PostgreSQL with its durable default settings, HTTP on a free port), with an agent
 * whose two tools are the built-ins {@code calculator} and {@code current_time}.
 */
final class BenchServer implements AutoCloseable {
  static final String ADMIN_KEY = "bench-admin-key-0123456789";
  private static final String AGENT = "bench-agent";

  final RunningServer server;
  final Api api;
  final String agentId;
  final Caller caller;
  final Path dataDir;
  private boolean keepData;

  private BenchServer(RunningServer server, Api api, String agentId, Caller caller, Path dataDir) {
    this.server = server;
    this.api = api;
    this.agentId = agentId;
    this.caller = caller;
    this.dataDir = dataDir;
  }

  /**
   * @param settings extra environment (e.g. {@code ARYABHATTA_DB_POOL_SIZE}); the benchmark lifts
   *     the per-key rate limit (600 requests a minute) and the cap of 256 runs executing at once,
   *     raised to 1,024, which would otherwise be what it measures
   */
  static BenchServer start(FakeModel model, Map<String, String> settings) {
    Path dataDir;
    try {
      // Next to the build, like the default ./data, rather than in a tmpfs-like /tmp.
      Files.createDirectories(Path.of("target/bench"));
      dataDir = Files.createTempDirectory(Path.of("target/bench").toAbsolutePath(), "data-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    RunningServer server = boot(dataDir, settings);
    Api api = new Api(server.port(), ADMIN_KEY);
    api.post("/api/secrets", Map.of("name", "BENCH_MODEL_KEY", "value", FakeModel.API_KEY));
    api.post("/api/providers", Map.of("name", "bench", "base_url", model.baseUrl(), "api_key_secret", "BENCH_MODEL_KEY"));
    api.post("/api/agents", Map.of(
        "name", AGENT,
        "system_prompt", "You are a benchmark agent. Use the tools, then answer.",
        "model", Map.of("provider", "bench", "name", FakeModel.MODEL),
        "tools", List.of("calculator", "current_time"),
        "max_steps", 10));
    return attach(server, dataDir);
  }

  /** The server again on the data of an earlier {@link #start} (whose {@link #keepData} was called). */
  static BenchServer restart(FakeModel model, Map<String, String> settings, Path dataDir) {
    return attach(boot(dataDir, settings), dataDir);
  }

  private static RunningServer boot(Path dataDir, Map<String, String> settings) {
    Map<String, String> env = new HashMap<>();
    env.put("HOST", "127.0.0.1");
    env.put("PORT", "0");
    env.put("ARYABHATTA_DATA_DIR", dataDir.toString());
    env.put("ARYABHATTA_ADMIN_KEY", ADMIN_KEY);
    env.put("ARYABHATTA_RATE_LIMIT_PER_MINUTE", "0");
    // 1,000 clients with a 1 s model need more than 256 runs in flight: the default is sized for
    // real conversations, whose runs each hold far more memory than the benchmark's.
    env.put("ARYABHATTA_MAX_CONCURRENT_RUNS", "1024");
    env.putAll(settings);
    return Main.start(ConfigLoader.fromMap(env));
  }

  private static BenchServer attach(RunningServer server, Path dataDir) {
    record Agent(String id, String workspaceId) {}
    Agent agent = server.database().jdbi().withHandle(h -> h.createQuery(
            "SELECT id, workspace_id FROM agents WHERE name = :name")
        .bind("name", AGENT).map((rs, c) -> new Agent(rs.getString("id"), rs.getString("workspace_id"))).one());
    return new BenchServer(server, new Api(server.port(), ADMIN_KEY), agent.id(),
        new Caller(null, agent.workspaceId(), "bench", true), dataDir);
  }

  /** The data folder survives {@link #close}. */
  void keepData() {
    keepData = true;
  }

  Jdbi jdbi() {
    return server.database().jdbi();
  }

  @Override
  public void close() {
    server.close();
    if (!keepData) {
      deleteQuietly(dataDir);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException ignored) {
      // a temp folder left behind is harmless
    }
  }
}
