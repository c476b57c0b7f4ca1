package io.aryabhatta.workspaces;

import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Workspaces and keys over HTTP: idempotent creation, pagination, and the audit trail. */
class WorkspacesApiTest {
  /** The shown prefix of an admin key given by ARYABHATTA_ADMIN_KEY that lacks our key format. */
  private static final String ENV_ADMIN_ACTOR = "env-admin";
  static TestServer server;
  static Jdbi jdbi;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    jdbi = server.server().database().jdbi();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static int count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Integer.class).one());
  }

  private static Http.Response createWorkspace(String name, String idempotencyKey) {
    return server.admin.post("/api/workspaces", Map.of("name", name), Map.of("Idempotency-Key", idempotencyKey));
  }

  @Test
  void same_idempotency_key_and_body_replays_the_first_response_and_creates_nothing() {
    Http.Response first = createWorkspace("idem-a", "k-1");
    assertThat(first.status()).isEqualTo(201);
    assertThat(first.header("Idempotent-Replayed")).isNull();

    Http.Response again = createWorkspace("idem-a", "k-1");
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(count("SELECT count(*) FROM workspaces WHERE name = 'idem-a'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit_log WHERE action = 'workspace.created' AND details->>'name' = 'idem-a'"))
        .isEqualTo(2); // one row in the admin's workspace, one in the new workspace
  }

  @Test
  void same_idempotency_key_with_another_body_is_422() {
    assertThat(createWorkspace("idem-b", "k-2").status()).isEqualTo(201);
    assertProblem(createWorkspace("idem-c", "k-2"), 422);
    assertThat(count("SELECT count(*) FROM workspaces WHERE name = 'idem-c'")).isZero();
  }

  @Test
  void failed_request_does_not_use_up_its_idempotency_key() {
    assertProblem(createWorkspace("Not Valid", "k-3"), 422);
    assertThat(server.admin.post("/api/workspaces", Map.of("name", "Not Valid"), Map.of("Idempotency-Key", "k-3"))
        .header("Idempotent-Replayed")).isNull();
  }

  @Test
  void idempotent_key_creation_never_stores_the_new_key_in_clear() {
    String workspace = server.admin.post("/api/workspaces", Map.of("name", "idem-keys")).json().get("id").asText();
    String path = "/api/workspaces/" + workspace + "/keys";
    Http.Response first = server.admin.post(path, Map.of("name", "ci"), Map.of("Idempotency-Key", "key-1"));
    assertThat(first.status()).isEqualTo(201);
    String key = first.json().get("key").asText();
    assertThat(key).startsWith("ary_");

    Http.Response again = server.admin.post(path, Map.of("name", "ci"), Map.of("Idempotency-Key", "key-1"));
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
    assertThat(again.text()).doesNotContain(key);
    assertThat(count("SELECT count(*) FROM api_keys WHERE workspace_id = '" + workspace + "'")).isEqualTo(1);
    assertThat(jdbi.withHandle(h -> h.createQuery("SELECT * FROM idempotency_keys").mapToMap().list()).toString())
        .doesNotContain(key);
  }

  @Test
  void concurrent_creates_of_one_name_make_one_workspace_and_409s() throws Exception {
    try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Http.Response>> responses = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        responses.add(threads.submit(() -> server.admin.post("/api/workspaces", Map.of("name", "race"))));
      }
      List<Integer> statuses = new ArrayList<>();
      for (Future<Http.Response> r : responses) {
        statuses.add(r.get().status());
      }
      assertThat(statuses).containsOnly(201, 409).containsOnlyOnce(201);
    }
    assertThat(count("SELECT count(*) FROM workspaces WHERE name = 'race'")).isEqualTo(1);
  }

  @Test
  void limit_one_walks_every_workspace_through_next_cursor() {
    for (String name : List.of("page-1", "page-2", "page-3")) {
      server.admin.post("/api/workspaces", Map.of("name", name));
    }
    List<String> all = new ArrayList<>();
    server.admin.get("/api/workspaces?limit=200").json().get("data").forEach(w -> all.add(w.get("id").asText()));
    assertThat(all).hasSizeGreaterThanOrEqualTo(4);

    List<String> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page = server.admin.get("/api/workspaces?limit=1" + (cursor == null ? "" : "&after=" + cursor)).json();
      assertThat(page.get("data")).hasSizeLessThanOrEqualTo(1);
      page.get("data").forEach(w -> walked.add(w.get("id").asText()));
      cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
      pages++;
    } while (cursor != null && pages <= all.size());
    assertThat(walked).containsExactlyElementsOf(all);
  }

  @Test
  void bad_limit_or_cursor_is_422() {
    for (String query : List.of("limit=0", "limit=201", "limit=abc", "limit=-1")) {
      JsonNode problem = assertProblem(server.admin.get("/api/workspaces?" + query), 422);
      assertThat(problem.at("/errors/0/field").asText()).isEqualTo("limit");
    }
    JsonNode problem = assertProblem(server.admin.get("/api/workspaces?after=!!!"), 422);
    assertThat(problem.at("/errors/0/field").asText()).isEqualTo("after");
    assertProblem(server.admin.get("/api/audit?limit=500"), 422);
  }

  @Test
  void workspace_and_key_changes_are_audited_with_the_key_prefix_as_actor() {
    String workspace = server.admin.post("/api/workspaces", Map.of("name", "audited")).json().get("id").asText();
    JsonNode created = server.admin.post("/api/workspaces/" + workspace + "/keys", Map.of("name", "k")).json();
    String keyId = created.get("id").asText();
    String key = created.get("key").asText();
    assertThat(server.admin.delete("/api/keys/" + keyId).status()).isEqualTo(200);

    Http.Response adminLog = server.admin.get("/api/audit?limit=200");
    assertThat(adminLog.text()).doesNotContain(TestServer.ADMIN_KEY).doesNotContain(key);
    List<JsonNode> rows = new ArrayList<>();
    adminLog.json().get("data").forEach(rows::add);
    assertThat(rows).anySatisfy(r -> assertRow(r, "workspace.created", "workspace", workspace));
    assertThat(rows).anySatisfy(r -> assertRow(r, "key.created", "api_key", keyId));
    assertThat(rows).anySatisfy(r -> assertRow(r, "key.revoked", "api_key", keyId));

    List<String> actions = new ArrayList<>();
    server.admin.get("/api/audit?resource_id=" + keyId).json().get("data")
        .forEach(r -> actions.add(r.get("action").asText()));
    assertThat(actions).containsExactly("key.created", "key.revoked");

    String allAuditRows = jdbi.withHandle(h -> h.createQuery("SELECT * FROM audit_log").mapToMap().list()).toString();
    assertThat(allAuditRows).doesNotContain(key).doesNotContain(TestServer.ADMIN_KEY);
  }

  private static void assertRow(JsonNode row, String action, String type, String id) {
    assertThat(row.get("action").asText()).isEqualTo(action);
    assertThat(row.get("resource_type").asText()).isEqualTo(type);
    assertThat(row.get("resource_id").asText()).isEqualTo(id);
    assertThat(row.get("actor").asText()).isEqualTo(ENV_ADMIN_ACTOR);
    assertThat(row.get("at").asText()).endsWith("Z");
  }

  @Test
  void audit_log_rejects_update_and_delete() {
    server.admin.post("/api/workspaces", Map.of("name", "immutable"));
    assertThatThrownBy(() -> jdbi.useHandle(h -> h.execute("UPDATE audit_log SET actor = 'someone-else'")))
        .hasMessageContaining("append-only");
    assertThatThrownBy(() -> jdbi.useHandle(h -> h.execute("DELETE FROM audit_log")))
        .hasMessageContaining("append-only");
    assertThat(count("SELECT count(*) FROM audit_log WHERE actor = 'someone-else'")).isZero();
  }
}
