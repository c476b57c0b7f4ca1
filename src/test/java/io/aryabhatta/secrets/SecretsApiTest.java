package io.aryabhatta.secrets;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.json.Json;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SecretsApiTest {
  static final String KEY = Base64.getEncoder().encodeToString(new byte[32]).replace('A', 'B');
  static final String VALUE = "sk-very-secret-value-4242";
  static TestServer server;
  static ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    server = TestServer.start(Map.of("ARYABHATTA_SECRET_KEY", KEY));
  }

  @AfterAll
  static void stop() {
    server.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private static Jdbi jdbi() {
    return server.server().database().jdbi();
  }

  @Test
  void created_secret_is_listed_by_name_without_its_value() {
    var created = server.admin.post("/api/secrets", Map.of("name", "LISTED_TOKEN", "value", VALUE));
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().get("name").asText()).isEqualTo("LISTED_TOKEN");
    assertThat(created.json().has("value")).isFalse();
    assertThat(created.json().get("created_at").asText()).isNotBlank();

    var list = server.admin.get("/api/secrets");
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().get("data").findValuesAsText("name")).contains("LISTED_TOKEN");
    assertThat(list.text()).doesNotContain(VALUE);
  }

  @Test
  void posting_an_existing_name_replaces_the_value() {
    assertThat(server.admin.post("/api/secrets", Map.of("name", "ROTATED", "value", "first-value-1")).status())
        .isEqualTo(201);
    var replaced = server.admin.post("/api/secrets", Map.of("name", "ROTATED", "value", "second-value-2"));
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(secretService().resolve("default", "ROTATED")).contains("second-value-2");
  }

  @Test
  void stored_value_is_encrypted_and_decrypts_back() {
    server.admin.post("/api/secrets", Map.of("name", "AT_REST", "value", VALUE));
    byte[] stored = jdbi().withHandle(h -> h.createQuery(
            "SELECT ciphertext FROM secrets WHERE workspace_id = 'default' AND name = 'AT_REST'")
        .mapTo(byte[].class).one());
    assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(VALUE);
    String dump = jdbi().withHandle(h -> h.createQuery(
            "SELECT encode(nonce, 'escape') || encode(ciphertext, 'escape') FROM secrets WHERE name = 'AT_REST'")
        .mapTo(String.class).one());
    assertThat(dump).doesNotContain(VALUE);
    assertThat(secretService().resolve("default", "AT_REST")).contains(VALUE);
  }

  @Test
  void bad_names_and_empty_values_are_422_per_field() {
    var r = server.admin.post("/api/secrets", Map.of("name", "lower-case", "value", ""));
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.json().get("errors").findValuesAsText("field")).containsExactlyInAnyOrder("name", "value");
    assertThat(server.admin.post("/api/secrets", Map.of("name", "X".repeat(65), "value", "v")).status())
        .isEqualTo(422);
    assertThat(server.admin.post("/api/secrets", Map.of("name", "NUMBER", "value", 5)).status()).isEqualTo(422);
  }

  @Test
  void delete_removes_the_secret_and_unknown_is_404() {
    server.admin.post("/api/secrets", Map.of("name", "SHORT_LIVED", "value", VALUE));
    assertThat(server.admin.delete("/api/secrets/SHORT_LIVED").status()).isEqualTo(204);
    assertThat(server.admin.get("/api/secrets").json().get("data").findValuesAsText("name"))
        .doesNotContain("SHORT_LIVED");
    assertThat(server.admin.delete("/api/secrets/SHORT_LIVED").status()).isEqualTo(404);
  }

  @Test
  void secret_used_by_a_tool_cannot_be_deleted() {
    server.admin.post("/api/secrets", Map.of("name", "IN_USE", "value", VALUE));
    var tool = server.admin.post("/api/tools", """
        {"name": "uses_secret", "kind": "http",
         "http": {"method": "GET", "url": "https://example.com/x", "headers": {"Authorization": "Bearer {{secret.IN_USE}}"}}}""");
    assertThat(tool.status()).isEqualTo(201);
    var r = server.admin.delete("/api/secrets/IN_USE");
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("uses_secret");
  }

  @Test
  void another_workspace_does_not_see_or_delete_the_secret() {
    server.admin.post("/api/secrets", Map.of("name", "PRIVATE_ONE", "value", VALUE));
    Http other = Workspaces.otherWorkspace(server, "secrets-other");
    assertThat(other.get("/api/secrets").json().get("data")).isEmpty();
    assertThat(other.delete("/api/secrets/PRIVATE_ONE").status()).isEqualTo(404);
    assertThat(secretService().resolve("default", "PRIVATE_ONE")).contains(VALUE);
  }

  @Test
  void idempotent_secret_creation_replays_the_first_response() {
    Map<String, String> key = Map.of("Idempotency-Key", "secret-once");
    var first = server.admin.post("/api/secrets", Map.of("name", "ONCE", "value", VALUE), key);
    var again = server.admin.post("/api/secrets", Map.of("name", "ONCE", "value", VALUE), key);
    assertThat(again.status()).isEqualTo(first.status()).isEqualTo(201);
    assertThat(again.text()).isEqualTo(first.text());
    assertThat(server.admin.post("/api/secrets", Map.of("name", "ONCE", "value", "other"), key).status())
        .isEqualTo(422);
  }

  @Test
  void secret_value_never_appears_in_responses_audit_or_logs() {
    String value = "zz-unique-secret-" + System.nanoTime();
    var created = server.admin.post("/api/secrets", Map.of("name", "WATCHED", "value", value));
    var replaced = server.admin.post("/api/secrets", Map.of("name", "WATCHED", "value", value + "-2"));
    var badName = server.admin.post("/api/secrets", Map.of("name", "bad name", "value", value));
    var list = server.admin.get("/api/secrets");
    var audit = server.admin.get("/api/audit?resource_type=secret&limit=200");
    server.admin.delete("/api/secrets/WATCHED");

    for (var r : List.of(created, replaced, badName, list, audit)) {
      assertThat(r.text()).doesNotContain(value);
    }
    assertThat(audit.json().get("data").findValuesAsText("action")).contains("secret.created", "secret.updated");
    assertThat(audit.json().get("data").findValuesAsText("resource_id")).contains("WATCHED");
    String auditTable = jdbi().withHandle(h -> h.createQuery("SELECT string_agg(details::text, ' ') FROM audit_log")
        .mapTo(String.class).one());
    assertThat(auditTable).doesNotContain(value);
    for (ILoggingEvent event : List.copyOf(logs.list)) {
      assertThat(event.getFormattedMessage()).doesNotContain(value);
      if (event.getThrowableProxy() != null) {
        assertThat(ThrowableProxyUtil.asString(event.getThrowableProxy())).doesNotContain(value);
      }
    }
    assertThat(logs.list).isNotEmpty();
  }

  private static SecretService secretService() {
    return new SecretService(jdbi(), new AuditLog(jdbi(), Json.mapper()),
        new SecretCipher(Base64.getDecoder().decode(KEY)));
  }
}
