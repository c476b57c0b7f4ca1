package io.aryabhatta.providers;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProvidersApiTest {
  static TestServer server;
  static HttpServer fakeProvider;
  static final List<String> authorizations = new CopyOnWriteArrayList<>();
  static final List<String> customHeaders = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("HF_API_URL", "https://router.example/v1/chat/completions/"));
    fakeProvider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fakeProvider.createContext("/v1/models", exchange -> {
      authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
      customHeaders.add(String.valueOf(exchange.getRequestHeaders().getFirst("X-Org")));
      byte[] body = """
          {"object": "list", "data": [{"id": "llama-3", "object": "model"}, {"id": "qwen-2", "object": "model"}]}"""
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    fakeProvider.createContext("/denied/models", exchange -> {
      exchange.sendResponseHeaders(401, -1);
      exchange.close();
    });
    fakeProvider.start();
  }

  @AfterAll
  static void stop() {
    fakeProvider.stop(0);
    server.close();
  }

  static String fakeBaseUrl(String path) {
    return "http://127.0.0.1:" + fakeProvider.getAddress().getPort() + path;
  }

  static List<String> fields(Http.Response r) {
    assertThat(r.status()).as(r.text()).isEqualTo(422);
    return r.json().get("errors").findValuesAsText("field");
  }

  @Test
  void builtin_hf_is_listed_derived_from_the_environment_and_read_only() {
    var list = server.admin.get("/api/providers");
    assertThat(list.json().get("data").findValuesAsText("name")).contains("hf");
    var hf = server.admin.get("/api/providers/hf").json();
    assertThat(hf.get("base_url").asText()).isEqualTo("https://router.example/v1");
    assertThat(hf.get("builtin").asBoolean()).isTrue();
    assertThat(hf.get("has_api_key").asBoolean()).isFalse();
    assertThat(server.admin.patch("/api/providers/hf", Map.of("base_url", "https://x.example")).status())
        .isEqualTo(405);
    assertThat(server.admin.delete("/api/providers/hf").status()).isEqualTo(405);
    assertThat(server.admin.post("/api/providers", Map.of("name", "hf", "base_url", "https://x.example")).status())
        .isEqualTo(409);
  }

  @Test
  void hf_models_without_a_token_is_422_naming_the_variable() {
    var r = server.admin.get("/api/providers/hf/models");
    assertThat(r.status()).isEqualTo(422);
    assertThat(r.json().get("detail").asText()).contains("HUGGING_FACE_AUTH_TOKEN");
  }

  @Test
  void models_are_listed_through_the_provider_with_its_decrypted_key_and_headers() {
    server.admin.post("/api/secrets", Map.of("name", "LOCAL_KEY", "value", "local-key-value"));
    server.admin.post("/api/secrets", Map.of("name", "ORG_ID", "value", "org-77"));
    var created = server.admin.post("/api/providers", Map.of("name", "local", "base_url", fakeBaseUrl("/v1/"),
        "api_key_secret", "LOCAL_KEY", "default_headers", Map.of("X-Org", "{{secret.ORG_ID}}")));
    assertThat(created.status()).as(created.text()).isEqualTo(201);
    assertThat(created.json().get("base_url").asText()).isEqualTo(fakeBaseUrl("/v1"));
    assertThat(created.json().get("max_attempts").asInt()).isEqualTo(3);
    assertThat(created.text()).doesNotContain("local-key-value");

    var models = server.admin.get("/api/providers/local/models");
    assertThat(models.status()).as(models.text()).isEqualTo(200);
    assertThat(models.json().get("data").findValuesAsText("id")).containsExactly("llama-3", "qwen-2");
    assertThat(authorizations).contains("Bearer local-key-value");
    assertThat(customHeaders).contains("org-77");
    assertThat(models.text()).doesNotContain("local-key-value");
  }

  @Test
  void a_rotated_key_or_a_changed_provider_is_used_by_the_next_call_at_once() {
    server.admin.post("/api/secrets", Map.of("name", "ROTATED_KEY", "value", "first-value"));
    server.admin.post("/api/providers", Map.of("name", "rotating", "base_url", fakeBaseUrl("/v1"),
        "api_key_secret", "ROTATED_KEY"));
    assertThat(server.admin.get("/api/providers/rotating/models").status()).isEqualTo(200);
    assertThat(authorizations.get(authorizations.size() - 1)).isEqualTo("Bearer first-value");

    server.admin.post("/api/secrets", Map.of("name", "ROTATED_KEY", "value", "second-value"));
    assertThat(server.admin.get("/api/providers/rotating/models").status()).isEqualTo(200);
    assertThat(authorizations.get(authorizations.size() - 1)).isEqualTo("Bearer second-value");

    assertThat(server.admin.patch("/api/providers/rotating", Map.of("base_url", fakeBaseUrl("/denied"))).status())
        .isEqualTo(200);
    assertThat(server.admin.get("/api/providers/rotating/models").status()).isEqualTo(502);
  }

  @Test
  void unreachable_or_refusing_provider_is_502() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    server.admin.post("/api/providers", Map.of("name", "gone", "base_url", "http://127.0.0.1:" + closedPort + "/v1"));
    var r = server.admin.get("/api/providers/gone/models");
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().get("detail").asText()).contains("gone").contains("unavailable").contains("connect");

    server.admin.post("/api/providers", Map.of("name", "denied", "base_url", fakeBaseUrl("/denied")));
    var denied = server.admin.get("/api/providers/denied/models");
    assertThat(denied.status()).isEqualTo(502);
    assertThat(denied.json().get("detail").asText()).contains("refused the API key");
  }

  @Test
  void invalid_providers_are_422_per_field() {
    assertThat(fields(server.admin.post("/api/providers", Map.of("name", "Bad Name", "base_url", "https://a.example"))))
        .containsExactly("name");
    assertThat(fields(server.admin.post("/api/providers", Map.of("name", "p1", "base_url", "ftp://a.example"))))
        .containsExactly("base_url");
    assertThat(fields(server.admin.post("/api/providers",
        Map.of("name", "p2", "base_url", "https://a.example", "api_key_secret", "NOT_THERE"))))
        .containsExactly("api_key_secret");
    assertThat(fields(server.admin.post("/api/providers", Map.of("name", "p3", "base_url", "https://a.example",
        "default_headers", Map.of("X-Key", "{{secret.ABSENT}}"))))).containsExactly("default_headers.X-Key");
    assertThat(fields(server.admin.post("/api/providers",
        Map.of("name", "p4", "base_url", "https://a.example", "max_attempts", 0)))).containsExactly("max_attempts");
  }

  @Test
  void patch_changes_settings_but_not_the_name_and_delete_removes() {
    server.admin.post("/api/providers", Map.of("name", "editable", "base_url", "https://one.example/v1"));
    var patched = server.admin.patch("/api/providers/editable", Map.of("base_url", "https://two.example/v1",
        "read_timeout_ms", 30000));
    assertThat(patched.status()).as(patched.text()).isEqualTo(200);
    assertThat(patched.json().get("base_url").asText()).isEqualTo("https://two.example/v1");
    assertThat(patched.json().get("read_timeout_ms").asInt()).isEqualTo(30000);
    assertThat(fields(server.admin.patch("/api/providers/editable", Map.of("name", "renamed"))))
        .containsExactly("name");
    assertThat(server.admin.delete("/api/providers/editable").status()).isEqualTo(204);
    assertThat(server.admin.get("/api/providers/editable").status()).isEqualTo(404);
  }

  @Test
  void provider_used_by_an_agent_cannot_be_deleted_and_isolation_holds() {
    server.admin.post("/api/providers", Map.of("name", "in-use", "base_url", "https://used.example/v1"));
    var agent = server.admin.post("/api/agents", Map.of("name", "uses-provider",
        "model", Map.of("provider", "in-use", "name", "m")));
    assertThat(agent.status()).as(agent.text()).isEqualTo(201);
    assertThat(server.admin.delete("/api/providers/in-use").status()).isEqualTo(409);

    Http other = Workspaces.otherWorkspace(server, "providers-other");
    assertThat(other.get("/api/providers/in-use").status()).isEqualTo(404);
    assertThat(other.get("/api/providers/in-use/models").status()).isEqualTo(404);
    assertThat(other.get("/api/providers").json().get("data").findValuesAsText("name")).containsExactly("hf");
  }

  @Test
  void list_pages_in_name_order_with_hf_included() {
    Http ws = Workspaces.otherWorkspace(server, "providers-paging");
    for (String name : List.of("zeta", "alpha", "mid")) {
      assertThat(ws.post("/api/providers", Map.of("name", name, "base_url", "https://a.example")).status())
          .isEqualTo(201);
    }
    var first = ws.get("/api/providers?limit=2").json();
    assertThat(first.get("data").findValuesAsText("name")).containsExactly("alpha", "hf");
    var second = ws.get("/api/providers?limit=2&after=" + first.get("next_cursor").asText()).json();
    assertThat(second.get("data").findValuesAsText("name")).containsExactly("mid", "zeta");
    assertThat(second.get("next_cursor").isNull()).isTrue();
  }
}
