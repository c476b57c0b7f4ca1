package io.aryabhatta.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.aryabhatta.Main;
import io.aryabhatta.RunningServer;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * External-database mode against the machine's own PostgreSQL on 127.0.0.1:5432 (trust auth, as
 * in CI). Skipped where no such service runs, e.g. on a fresh machine.
 */
class ExternalDatabaseTest {
  private static final String SERVICE = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
  private static String database;
  private static RunningServer server;

  @BeforeAll
  static void createDatabase() throws SQLException {
    if (!serviceAcceptsConnections()) {
      return; // the test reports itself skipped
    }
    database = "aryabhatta_ext_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    try (Connection c = DriverManager.getConnection(SERVICE)) {
      c.createStatement().execute("CREATE DATABASE " + database);
    }
    Map<String, String> env = new HashMap<>(TestServer.baseEnv());
    env.put("DB_CONNECTION_STRING", "postgresql://postgres@127.0.0.1:5432/" + database);
    server = Main.start(ConfigLoader.fromMap(env));
  }

  @AfterAll
  static void dropDatabase() throws SQLException {
    if (server != null) {
      server.close();
    }
    if (database != null) {
      try (Connection c = DriverManager.getConnection(SERVICE)) {
        c.createStatement().execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      }
    }
  }

  private static boolean serviceAcceptsConnections() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", 5432), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void server_on_the_external_database_is_ready_and_writes_there() throws SQLException {
    assumeTrue(server != null, "no PostgreSQL service on 127.0.0.1:5432");
    Http admin = new Http("http://127.0.0.1:" + server.port(), TestServer.ADMIN_KEY);
    assertThat(admin.get("/ready").status()).isEqualTo(200);
    var created = admin.post("/api/workspaces", Map.of("name", "external"));
    assertThat(created.status()).isEqualTo(201);

    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database + "?user=postgres");
        var rs = c.createStatement().executeQuery("SELECT name FROM workspaces WHERE id = '"
            + created.json().get("id").asText() + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("external");
    }
  }
}
