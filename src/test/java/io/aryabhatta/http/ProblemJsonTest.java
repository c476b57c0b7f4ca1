package io.aryabhatta.http;

import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static io.aryabhatta.testing.ProblemAssert.fields;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every error status the foundation produces, each as RFC 9457 problem JSON with a request id. */
class ProblemJsonTest {
  private static final int LIMIT = 1024 * 1024;
  static TestServer server;
  static Http member;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    String id = server.admin.post("/api/workspaces", Map.of("name", "problems")).json().get("id").asText();
    member = server.as(server.admin.post("/api/workspaces/" + id + "/keys", Map.of()).json().get("key").asText());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void malformed_json_is_400() {
    assertProblem(server.admin.post("/api/workspaces", "{\"name\":"), 400);
    assertProblem(server.admin.post("/api/workspaces", "{\"name\":\"a\"} trailing"), 400);
    assertProblem(server.admin.post("/api/workspaces", ""), 400);
  }

  @Test
  void a_nul_character_in_a_body_is_422_and_nothing_is_stored() {
    String tool = """
        {"name": "nul_tool", "kind": "client", "description": "holds \\u0000 here",
         "parameters": {"type": "object"}}""";
    assertThat(fields(assertProblem(server.admin.post("/api/tools", tool), 422))).contains("body");
    assertProblem(server.admin.post("/api/secrets", "{\"name\": \"NUL\", \"value\": \"a\\u0000b\"}"), 422);
    // The six characters of the escape, written as text, are an ordinary string.
    Http.Response created = server.admin.post("/api/tools", tool.replace("holds \\u0000", "holds \\\\u0000"));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    assertThat(created.json().get("description").asText()).isEqualTo("holds \\u0000 here");
  }

  @Test
  void body_over_the_limit_with_content_length_is_413() {
    String big = "{\"name\":\"" + "a".repeat(LIMIT) + "\"}";
    // Every time: a client still sending the body must read the answer, not a connection reset.
    for (int i = 0; i < 50; i++) {
      assertProblem(server.admin.post("/api/workspaces", big), 413);
    }
  }

  @Test
  void chunked_body_over_the_limit_is_413() throws Exception {
    byte[] big = ("{\"name\":\"" + "a".repeat(LIMIT) + "\"}").getBytes(StandardCharsets.UTF_8);
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/workspaces"))
        .header("Authorization", "Bearer " + TestServer.ADMIN_KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
        .timeout(Duration.ofSeconds(30))
        .build();
    HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        .send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(request.bodyPublisher().orElseThrow().contentLength()).as("sent chunked").isNegative();
    assertProblem(new Http.Response(r.statusCode(), r.headers(), r.body()), 413);
  }

  @Test
  void body_just_under_the_limit_is_read() {
    String name = "a".repeat(LIMIT - 100);
    JsonNode problem = assertProblem(server.admin.post("/api/workspaces", Map.of("name", name)), 422);
    assertThat(fields(problem)).containsExactly("name");
  }

  @Test
  void wrong_content_type_is_415() {
    assertProblem(server.admin.post("/api/workspaces", "{\"name\":\"plain\"}", Map.of("Content-Type", "text/plain")), 415);
    assertProblem(server.admin.send("POST", "/api/workspaces", "{\"name\":\"none\"}", Map.of()), 415);
  }

  @Test
  void validation_errors_are_422_with_fields() {
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", Map.of("name", 5)), 422)))
        .containsExactly("name");
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", Map.of("name", List.of("a"))), 422)))
        .containsExactly("name");
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", Map.of("name", "ok", "colour", "red")), 422)))
        .containsExactly("colour");
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", Map.of("name", "Bad Name!")), 422)))
        .containsExactly("name");
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", Map.of()), 422)))
        .containsExactly("name");
    assertThat(fields(assertProblem(server.admin.post("/api/workspaces", "[1,2]"), 422)))
        .containsExactly("body");
  }

  @Test
  void unknown_route_is_404() {
    assertProblem(server.anonymous().get("/no/such/route"), 404);
    assertProblem(server.admin.get("/api/no-such-route"), 404);
  }

  @Test
  void unknown_id_is_404() {
    assertProblem(server.admin.get("/api/workspaces/0190f1e2-0000-7000-8000-000000000000"), 404);
    assertProblem(server.admin.post("/api/workspaces/nope/keys", Map.of()), 404);
    assertProblem(server.admin.delete("/api/keys/nope"), 404);
  }

  @Test
  void wrong_method_is_405() {
    assertProblem(server.admin.delete("/api/workspaces"), 405);
    assertProblem(server.anonymous().send("POST", "/health", null, Map.of()), 405);
  }

  @Test
  void duplicate_workspace_name_is_409() {
    assertThat(server.admin.post("/api/workspaces", Map.of("name", "twice")).status()).isEqualTo(201);
    assertProblem(server.admin.post("/api/workspaces", Map.of("name", "twice")), 409);
  }

  @Test
  void missing_key_is_401_and_workspace_key_on_admin_route_is_403() {
    assertProblem(server.anonymous().get("/api/workspaces"), 401);
    assertProblem(member.get("/api/workspaces"), 403);
  }

  @Test
  void too_many_requests_is_429_with_retry_after() {
    try (TestServer limited = TestServer.start(Map.of("ARYABHATTA_RATE_LIMIT_PER_MINUTE", "3"))) {
      for (int i = 0; i < 3; i++) {
        assertThat(limited.admin.get("/api/workspaces").status()).isEqualTo(200);
      }
      Http.Response r = limited.admin.get("/api/workspaces");
      assertProblem(r, 429);
      assertThat(Long.parseLong(r.header("Retry-After"))).isBetween(1L, 60L);
      assertThat(limited.anonymous().get("/health").status()).as("only API keys are limited").isEqualTo(200);
    }
  }

  @Test
  void internal_error_is_500_with_only_a_request_id() {
    try (TestServer broken = TestServer.start()) {
      broken.server().database().jdbi().useHandle(h -> h.execute("ALTER TABLE workspaces RENAME TO gone_missing"));
      Http.Response r = broken.admin.post("/api/workspaces", Map.of("name", "fails"));
      JsonNode body = assertProblem(r, 500);
      List<String> names = new ArrayList<>();
      body.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactlyInAnyOrder("type", "title", "status", "detail", "request_id");
      assertThat(r.text()).doesNotContainIgnoringCase("workspaces").doesNotContain("gone_missing")
          .doesNotContainIgnoringCase("sql").doesNotContain("org.").doesNotContain("Exception");
    }
  }

  @Test
  void every_response_carries_a_request_id_and_a_sane_incoming_one_is_echoed() {
    Http.Response ok = server.anonymous().send("GET", "/health", null, Map.of("X-Request-Id", "trace-42_a.b"));
    assertThat(ok.header("X-Request-Id")).isEqualTo("trace-42_a.b");
    Http.Response missing = server.anonymous().send("GET", "/nope", null, Map.of("X-Request-Id", "trace-43"));
    assertThat(missing.header("X-Request-Id")).isEqualTo("trace-43");
    assertThat(missing.json().get("request_id").asText()).isEqualTo("trace-43");
    Http.Response unauthorized = server.anonymous().get("/api/workspaces");
    assertThat(unauthorized.header("X-Request-Id")).isNotBlank();

    for (String insane : List.of("has space", "x".repeat(65), "semi;colon", "new\\nline")) {
      Http.Response r = server.anonymous().send("GET", "/health", null, Map.of("X-Request-Id", insane));
      assertThat(r.header("X-Request-Id")).isNotBlank().isNotEqualTo(insane);
    }
    Iterator<String> ids = List.of(server.anonymous().get("/health"), server.anonymous().get("/health")).stream()
        .map(r -> r.header("X-Request-Id")).iterator();
    assertThat(ids.next()).isNotEqualTo(ids.next());
  }
}
