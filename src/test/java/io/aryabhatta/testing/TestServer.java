package io.aryabhatta.testing;

import io.aryabhatta.Main;
import io.aryabhatta.RunningServer;
import io.aryabhatta.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The real server, wired by {@link Main#start}, on a fresh database of the shared embedded
 * PostgreSQL and a free port.
 */
public final class TestServer implements AutoCloseable {
  public static final String ADMIN_KEY = "test-admin-key-0123456789";
  public static final String SECRET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

  private final RunningServer server;
  public final Http admin;

  private TestServer(RunningServer server) {
    this.server = server;
    this.admin = new Http(baseUrl(), ADMIN_KEY);
  }

  public static TestServer start() {
    return start(Map.of());
  }

  public static TestServer start(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(baseEnv());
    env.put("DB_CONNECTION_STRING", TestPostgres.freshDatabase());
    env.putAll(overrides);
    return new TestServer(Main.start(ConfigLoader.fromMap(env)));
  }

  public static Map<String, String> baseEnv() {
    try {
      Path data = Files.createTempDirectory("aryabhatta-test-data");
      return Map.of(
          "PORT", "0",
          "HOST", "127.0.0.1",
          "ARYABHATTA_ADMIN_KEY", ADMIN_KEY,
          "ARYABHATTA_DATA_DIR", data.toString(),
          "ARYABHATTA_RATE_LIMIT_PER_MINUTE", "0",
          // One key for every test server, so a server restarted on the same database can read its secrets.
          "ARYABHATTA_SECRET_KEY", SECRET_KEY);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  public Http as(String key) {
    return new Http(baseUrl(), key);
  }

  public Http anonymous() {
    return new Http(baseUrl(), null);
  }

  public RunningServer server() {
    return server;
  }

  @Override
  public void close() {
    server.close();
  }
}
