package io.aryabhatta.tools;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.audit.AuditLog;

import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ToolsApiTest {
  static TestServer server;
  static ToolService service;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    Jdbi jdbi = server.server().database().jdbi();
    AuditLog audit = new AuditLog(jdbi, Json.mapper());
    service = new ToolService(jdbi, audit, new Ids(Clock.systemUTC()), Json.mapper(),
        new SecretService(jdbi, audit, new SecretCipher(new byte[32])));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String lookupOrder(String name) {
    return """
        {"name": "%s", "kind": "http", "description": "Look up an order",
         "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
         "http": {"method": "GET", "url": "https://shop.example/api/orders/{order_id}"}}""".formatted(name);
  }

  static List<String> fields(Http.Response r) {
    assertThat(r.status()).as(r.text()).isEqualTo(422);
    return r.json().get("errors").findValuesAsText("field");
  }

  @Test
  void builtins_are_listed_with_stable_ids_and_are_read_only() {
    var list = server.admin.get("/api/tools?limit=200");
    List<JsonNode> builtins = new ArrayList<>();
    list.json().get("data").forEach(t -> {
      if (t.get("kind").asText().equals("builtin")) {
        builtins.add(t);
      }
    });
    assertThat(builtins).extracting(t -> t.get("id").asText())
        .contains("builtin:calculator", "builtin:current_time", "builtin:http_get");
    var calculator = server.admin.get("/api/tools/builtin:calculator");
    assertThat(calculator.status()).isEqualTo(200);
    assertThat(calculator.json().at("/parameters/properties/expression/type").asText()).isEqualTo("string");

    var patch = server.admin.patch("/api/tools/builtin:calculator", Map.of("description", "mine"));
    assertThat(patch.status()).isEqualTo(405);
    assertThat(patch.header("Allow")).isEqualTo("GET");
    assertThat(patch.header("Content-Type")).startsWith("application/problem+json");
    assertThat(server.admin.delete("/api/tools/builtin:http_get").status()).isEqualTo(405);
    assertThat(server.admin.post("/api/tools", lookupOrder("calculator")).status()).isEqualTo(409);
  }

  @Test
  void http_tool_is_created_with_defaults_and_read_back() {
    var created = server.admin.post("/api/tools", lookupOrder("lookup_order"));
    assertThat(created.status()).as(created.text()).isEqualTo(201);
    JsonNode tool = created.json();
    assertThat(tool.get("kind").asText()).isEqualTo("http");
    assertThat(tool.get("idempotent").asBoolean()).isTrue();
    assertThat(tool.get("requires_approval").asBoolean()).isFalse();
    assertThat(tool.at("/http/timeout_ms").asInt()).isEqualTo(10000);
    assertThat(tool.at("/http/body").isNull()).isTrue();
    var read = server.admin.get("/api/tools/" + tool.get("id").asText());
    assertThat(read.json()).isEqualTo(tool);
    assertThat(server.admin.post("/api/tools", lookupOrder("lookup_order")).status()).isEqualTo(409);
  }

  @Test
  void post_tools_default_to_not_idempotent_and_client_tools_have_no_http() {
    var post = server.admin.post("/api/tools", """
        {"name": "create_ticket", "kind": "http",
         "parameters": {"type": "object", "properties": {"title": {"type": "string"}}},
         "http": {"method": "post", "url": "https://desk.example/tickets", "body": {"title": "{title}"}}}""");
    assertThat(post.status()).as(post.text()).isEqualTo(201);
    assertThat(post.json().get("idempotent").asBoolean()).isFalse();
    assertThat(post.json().at("/http/method").asText()).isEqualTo("POST");
    assertThat(post.json().at("/http/body/title").asText()).isEqualTo("{title}");

    var client = server.admin.post("/api/tools", """
        {"name": "ask_user", "kind": "client", "description": "Ask the user",
         "parameters": {"type": "object", "properties": {"question": {"type": "string"}}}}""");
    assertThat(client.status()).isEqualTo(201);
    assertThat(client.json().get("http").isNull()).isTrue();
  }

  @Test
  void a_schema_error_says_where_in_the_schema_and_each_message_once() {
    Http.Response r = server.admin.post("/api/tools", """
        {"name": "t_where", "kind": "client",
         "parameters": {"type": "object", "properties": {"order_id": {"type": "strin"}}}}""");
    assertThat(r.status()).isEqualTo(422);
    List<String> messages = r.json().path("errors").findValuesAsText("message");
    assertThat(messages).isNotEmpty().doesNotHaveDuplicates();
    assertThat(messages).allSatisfy(m -> assertThat(m).contains("/properties/order_id/type"));
  }

  @Test
  void invalid_definitions_are_422_per_field() {
    assertThat(fields(server.admin.post("/api/tools", lookupOrder("bad name!")))).containsExactly("name");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t1", "kind": "http", "parameters": {"type": "strin"},
         "http": {"method": "GET", "url": "https://a.example"}}"""))).contains("parameters");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t2", "kind": "client", "parameters": {"type": "string"}}"""))).containsExactly("parameters");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t3", "kind": "client", "parameters": {"type": "object", "required": "x"}}"""))).contains("parameters");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t4", "kind": "client",
         "parameters": {"type": "object", "properties": {"a": {"$ref": "https://evil.example/s.json"}}}}""")))
        .contains("parameters");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t5", "kind": "http", "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
         "http": {"method": "GET", "url": "https://a.example/items/{item_id}"}}"""))).containsExactly("http.url");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t6", "kind": "http",
         "http": {"method": "GET", "url": "https://a.example", "headers": {"Authorization": "Bearer {{secret.MISSING}}"}}}""")))
        .containsExactly("http.headers.Authorization");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t7", "kind": "http", "http": {"method": "FETCH", "url": "ftp://a.example", "timeout_ms": 0}}""")))
        .containsExactlyInAnyOrder("http.method", "http.url", "http.timeout_ms");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t8", "kind": "http", "http": {"method": "POST", "url": "https://a.example",
         "body": {"token": "{{secret.NOPE}}"}}}"""))).containsExactly("http.body");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t9", "kind": "mcp"}"""))).containsExactly("kind");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t10", "kind": "http"}"""))).containsExactly("http");
    assertThat(fields(server.admin.post("/api/tools", """
        {"name": "t11", "kind": "http", "http": {"method": "GET", "url": "https://a.example", "timeout_ms": "5"}}""")))
        .containsExactly("http.timeout_ms");
  }

  @Test
  void existing_secret_reference_is_accepted() {
    server.admin.post("/api/secrets", Map.of("name", "SHOP_TOKEN", "value", "tok-123"));
    var r = server.admin.post("/api/tools", """
        {"name": "with_secret", "kind": "http",
         "http": {"method": "GET", "url": "https://a.example/{{secret.SHOP_TOKEN}}/x",
                  "headers": {"Authorization": "Bearer {{secret.SHOP_TOKEN}}"}, "query": {"k": "{{secret.SHOP_TOKEN}}"}}}""");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    assertThat(r.text()).doesNotContain("tok-123");
  }

  @Test
  void patch_merges_changes_and_recomputes_idempotent_when_the_method_changes() {
    String id = server.admin.post("/api/tools", lookupOrder("patched_tool")).json().get("id").asText();
    var patched = server.admin.patch("/api/tools/" + id, """
        {"description": "new text", "http": {"method": "POST", "headers": {"X-Trace": "1"}}}""");
    assertThat(patched.status()).as(patched.text()).isEqualTo(200);
    assertThat(patched.json().get("description").asText()).isEqualTo("new text");
    assertThat(patched.json().at("/http/url").asText()).isEqualTo("https://shop.example/api/orders/{order_id}");
    assertThat(patched.json().at("/http/headers/X-Trace").asText()).isEqualTo("1");
    assertThat(patched.json().get("idempotent").asBoolean()).isFalse();

    assertThat(fields(server.admin.patch("/api/tools/" + id, Map.of("kind", "client")))).containsExactly("kind");
    assertThat(fields(server.admin.patch("/api/tools/" + id, Map.of("unknown_field", 1))))
        .containsExactly("unknown_field");
    assertThat(server.admin.patch("/api/tools/no-such-id", Map.of("description", "x")).status()).isEqualTo(404);
  }

  @Test
  void delete_removes_a_tool() {
    String id = server.admin.post("/api/tools", lookupOrder("short_lived")).json().get("id").asText();
    assertThat(server.admin.delete("/api/tools/" + id).status()).isEqualTo(204);
    assertThat(server.admin.get("/api/tools/" + id).status()).isEqualTo(404);
    assertThat(server.admin.delete("/api/tools/" + id).status()).isEqualTo(404);
    var audit = server.admin.get("/api/audit?resource_type=tool&resource_id=" + id);
    assertThat(audit.json().get("data").findValuesAsText("action")).containsExactly("tool.created", "tool.deleted");
  }

  @Test
  void another_workspace_gets_404_for_the_tool_and_its_own_list() {
    String id = server.admin.post("/api/tools", lookupOrder("private_tool")).json().get("id").asText();
    Http other = Workspaces.otherWorkspace(server, "tools-other");
    assertThat(other.get("/api/tools/" + id).status()).isEqualTo(404);
    assertThat(other.patch("/api/tools/" + id, Map.of("description", "x")).status()).isEqualTo(404);
    assertThat(other.delete("/api/tools/" + id).status()).isEqualTo(404);
    assertThat(other.get("/api/tools").json().get("data").findValuesAsText("name"))
        .containsExactly("calculator", "current_time", "http_get");
    assertThat(other.post("/api/tools", lookupOrder("private_tool")).status()).isEqualTo(201);
  }

  @Test
  void list_pages_through_builtins_and_own_tools_in_name_order() {
    Http ws = Workspaces.otherWorkspace(server, "tools-paging");
    for (String name : List.of("b_tool", "a_tool", "d_tool", "z_tool", "c_tool")) {
      assertThat(ws.post("/api/tools", lookupOrder(name)).status()).isEqualTo(201);
    }
    List<String> names = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      var page = ws.get("/api/tools?limit=3" + (cursor == null ? "" : "&after=" + cursor)).json();
      names.addAll(page.get("data").findValuesAsText("name"));
      cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    assertThat(names).containsExactly("a_tool", "b_tool", "c_tool", "calculator", "current_time", "d_tool",
        "http_get", "z_tool");
  }

  @Test
  void idempotent_creation_returns_the_first_response_and_creates_nothing_new() {
    Map<String, String> key = Map.of("Idempotency-Key", "tool-key-1");
    var first = server.admin.post("/api/tools", lookupOrder("idem_tool"), key);
    var again = server.admin.post("/api/tools", lookupOrder("idem_tool"), key);
    assertThat(first.status()).isEqualTo(201);
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(server.admin.get("/api/tools?limit=200").json().get("data").findValuesAsText("name")
        .stream().filter("idem_tool"::equals)).hasSize(1);
    assertThat(server.admin.post("/api/tools", lookupOrder("idem_tool_2"), key).status()).isEqualTo(422);
  }

  @Test
  void resolve_returns_definitions_in_order_and_rejects_unknown_names() {
    server.admin.post("/api/tools", lookupOrder("resolvable"));
    List<ToolDefinition> resolved = service.resolve("default", List.of("resolvable", "calculator"));
    assertThat(resolved).extracting(ToolDefinition::name).containsExactly("resolvable", "calculator");
    assertThat(resolved.get(0).http().url()).isEqualTo("https://shop.example/api/orders/{order_id}");
    assertThat(resolved.get(0).http().body()).isNull();
    assertThat(resolved.get(1).kind()).isEqualTo("builtin");
    assertThatThrownBy(() -> service.resolve("default", List.of("calculator", "nope")))
        .isInstanceOfSatisfying(DomainException.ValidationFailed.class,
            e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("tools[1]"));
    assertThat(service.byId("default", "builtin:current_time").name()).isEqualTo("current_time");
    assertThatThrownBy(() -> service.byId("other", resolved.get(0).id())).isInstanceOf(DomainException.NotFound.class);
  }
}
