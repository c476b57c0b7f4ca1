package io.aryabhatta.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.testing.TestServer;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HealthAndErrorsTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void ready_is_200_when_database_is_migrated() {
    var r = server.anonymous().get("/ready");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("status").asText()).isEqualTo("ready");
    assertThat(r.header("X-Request-Id")).isNotBlank();
  }

  @Test
  void malformed_json_is_400_problem() {
    var r = server.admin.post("/api/workspaces", "{\"name\":");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.json().get("status").asInt()).isEqualTo(400);
  }

  @Test
  void wrong_type_is_422_with_field() {
    var r = server.admin.post("/api/workspaces", Map.of("name", 5));
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.json().at("/errors/0/field").asText()).isEqualTo("name");
  }
}
