package io.aryabhatta.http;

import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.workspaces.ApiKeys;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthTest {
  static TestServer server;
  static Workspace alpha;
  static Workspace beta;

  /** A workspace and one member key of it. */
  record Workspace(String id, String keyId, String key, Http client) {}

  @BeforeAll
  static void start() {
    server = TestServer.start();
    alpha = workspace("alpha");
    beta = workspace("beta");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Workspace workspace(String name) {
    String id = server.admin.post("/api/workspaces", Map.of("name", name)).json().get("id").asText();
    JsonNode key = server.admin.post("/api/workspaces/" + id + "/keys", Map.of("name", name + "-key")).json();
    return new Workspace(id, key.get("id").asText(), key.get("key").asText(), server.as(key.get("key").asText()));
  }

  @Test
  void missing_key_is_401() {
    assertProblem(server.anonymous().get("/api/audit"), 401);
  }

  @Test
  void malformed_authorization_header_is_401() {
    for (String header : List.of("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Token " + alpha.key(), alpha.key(),
        "Bearer" + alpha.key())) {
      Http.Response r = server.anonymous().send("GET", "/api/audit", null, Map.of("Authorization", header));
      assertProblem(r, 401);
    }
  }

  @Test
  void unknown_key_is_401_and_the_scheme_is_case_insensitive() {
    assertProblem(server.as("ary_thisIsNotAKeyThatExistsAnywhere0123456789abc").get("/api/audit"), 401);
    assertProblem(server.as(alpha.key() + "x").get("/api/audit"), 401);
    Http.Response lower = server.anonymous().send("GET", "/api/audit", null,
        Map.of("Authorization", "bearer " + alpha.key()));
    assertThat(lower.status()).isEqualTo(200);
  }

  @Test
  void revoked_key_is_401() {
    Workspace gamma = workspace("gamma");
    assertThat(gamma.client().get("/api/audit").status()).isEqualTo(200);

    Http.Response revoked = server.admin.delete("/api/keys/" + gamma.keyId());
    assertThat(revoked.status()).isEqualTo(200);
    assertThat(revoked.json().get("revoked_at").isNull()).isFalse();
    assertThat(revoked.text()).doesNotContain(gamma.key());

    assertProblem(gamma.client().get("/api/audit"), 401);
  }

  @Test
  void admin_key_from_the_environment_manages_workspaces_in_default() {
    assertThat(server.admin.get("/api/workspaces").status()).isEqualTo(200);
    assertThat(server.admin.get("/api/workspaces/default").json().get("name").asText()).isEqualTo("default");
  }

  @Test
  void workspace_key_on_admin_routes_is_403_whether_or_not_the_target_exists() {
    JsonNode existing = assertProblem(alpha.client().get("/api/workspaces/" + beta.id()), 403);
    JsonNode missing = assertProblem(alpha.client().get("/api/workspaces/0190f1e2-0000-7000-8000-000000000000"), 403);
    assertThat(existing.get("detail")).isEqualTo(missing.get("detail"));

    assertProblem(alpha.client().get("/api/workspaces"), 403);
    assertProblem(alpha.client().post("/api/workspaces", Map.of("name", "sneaky")), 403);
    assertProblem(alpha.client().get("/api/workspaces/" + beta.id() + "/keys"), 403);
    assertProblem(alpha.client().post("/api/workspaces/" + beta.id() + "/keys", Map.of()), 403);
    assertProblem(alpha.client().delete("/api/keys/" + beta.keyId()), 403);
    assertThat(beta.client().get("/api/audit").status()).as("beta's key survives").isEqualTo(200);
  }

  @Test
  void workspace_key_sees_only_its_own_audit_rows() {
    JsonNode rows = alpha.client().get("/api/audit?limit=200").json().get("data");
    assertThat(rows).isNotEmpty();
    assertThat(rows).extracting(r -> r.get("resource_id").asText())
        .contains(alpha.id(), alpha.keyId())
        .doesNotContain(beta.id(), beta.keyId(), "default");

    JsonNode other = alpha.client().get("/api/audit?resource_id=" + beta.keyId()).json().get("data");
    assertThat(other).isEmpty();
  }

  @Test
  void keys_are_stored_hashed_and_only_the_prefix_is_shown_again() {
    List<Map<String, Object>> rows = server.server().database().jdbi()
        .withHandle(h -> h.createQuery("SELECT * FROM api_keys").mapToMap().list());
    assertThat(rows).hasSizeGreaterThanOrEqualTo(3);
    for (String key : List.of(alpha.key(), beta.key(), TestServer.ADMIN_KEY)) {
      assertThat(rows.toString()).doesNotContain(key);
      assertThat(rows).anySatisfy(row -> assertThat(row.get("key_hash")).isEqualTo(ApiKeys.hash(key)));
    }

    Http.Response listed = server.admin.get("/api/workspaces/" + alpha.id() + "/keys");
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.text()).doesNotContain(alpha.key()).doesNotContain(ApiKeys.hash(alpha.key()));
    JsonNode shown = listed.json().get("data").get(0);
    assertThat(shown.has("key")).isFalse();
    assertThat(shown.has("key_hash")).isFalse();
    assertThat(alpha.key()).startsWith(shown.get("prefix").asText());
    assertThat(shown.get("prefix").asText().length()).isLessThan(alpha.key().length() / 2);
  }
}
