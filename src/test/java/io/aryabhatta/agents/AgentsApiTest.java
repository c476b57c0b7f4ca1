package io.aryabhatta.agents;

import io.aryabhatta.errors.DomainException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.audit.AuditLog;

import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import io.aryabhatta.tools.ToolService;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AgentsApiTest {
  static TestServer server;
  static AgentService service;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    Jdbi jdbi = server.server().database().jdbi();
    AuditLog audit = new AuditLog(jdbi, Json.mapper());
    Ids ids = new Ids(Clock.systemUTC());
    SecretService secrets = new SecretService(jdbi, audit, new SecretCipher(new byte[32]));
    ToolService tools = new ToolService(jdbi, audit, ids, Json.mapper(), secrets);
    ProviderService providers = new ProviderService(jdbi, audit, ids, Json.mapper(), secrets,
        "https://router.example/v1/chat/completions", Optional.empty());
    service = new AgentService(jdbi, audit, ids, Json.mapper(), tools, providers);
    server.admin.post("/api/tools", """
        {"name": "lookup_order", "kind": "client",
         "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}""");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Map<String, Object> agent(String name) {
    Map<String, Object> body = new HashMap<>();
    body.put("name", name);
    body.put("description", "Answers customers");
    body.put("system_prompt", "You help. Today is {{date}}. Customer: {{ customer_name }}, again {{date}}, "
        + "key {{secret.SHOP_TOKEN}}");
    body.put("model", Map.of("provider", "hf", "name", "meta-llama/Llama-3.3-70B-Instruct", "temperature", 0.2,
        "max_tokens", 1024, "seed", 7));
    body.put("tools", List.of("calculator", "lookup_order"));
    return body;
  }

  static Map<String, Object> with(Map<String, Object> body, String field, Object value) {
    Map<String, Object> copy = new HashMap<>(body);
    copy.put(field, value);
    return copy;
  }

  static List<String> fields(Http.Response r) {
    assertThat(r.status()).as(r.text()).isEqualTo(422);
    return r.json().get("errors").findValuesAsText("field");
  }

  @Test
  void created_agent_has_defaults_variables_and_version_1() {
    var r = server.admin.post("/api/agents", agent("support-bot"));
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    JsonNode a = r.json();
    assertThat(a.get("version").asInt()).isEqualTo(1);
    assertThat(a.get("tool_approval").asText()).isEqualTo("never");
    assertThat(a.get("max_steps").asInt()).isEqualTo(10);
    assertThat(a.get("context_window").asInt()).isEqualTo(8000);
    assertThat(a.get("variables")).extracting(JsonNode::asText).containsExactly("customer_name", "date");
    assertThat(a.at("/model/top_p").isNull()).isTrue();
    assertThat(a.at("/model/seed").asLong()).isEqualTo(7);
    assertThat(a.get("tools")).extracting(JsonNode::asText).containsExactly("calculator", "lookup_order");
    assertThat(server.admin.get("/api/agents/" + a.get("id").asText()).json()).isEqualTo(a);
  }

  @Test
  void model_provider_defaults_to_hf() {
    var r = server.admin.post("/api/agents", Map.of("name", "minimal", "model", Map.of("name", "some/model")));
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    assertThat(r.json().at("/model/provider").asText()).isEqualTo("hf");
    assertThat(r.json().get("system_prompt").asText()).isEmpty();
  }

  @Test
  void each_validation_rule_is_a_422_with_its_field() {
    Map<String, Object> base = agent("valid-name");
    assertThat(fields(server.admin.post("/api/agents", with(base, "name", "Bad Name")))).containsExactly("name");
    assertThat(fields(server.admin.post("/api/agents", with(base, "tools", List.of("calculator", "nope")))))
        .containsExactly("tools[1]");
    assertThat(fields(server.admin.post("/api/agents", with(base, "tools", List.of("calculator", "calculator")))))
        .containsExactly("tools[1]");
    assertThat(fields(server.admin.post("/api/agents", with(base, "model", Map.of("provider", "nowhere", "name", "m")))))
        .containsExactly("model.provider");
    assertThat(fields(server.admin.post("/api/agents", with(base, "model", Map.of("provider", "hf")))))
        .containsExactly("model.name");
    assertThat(fields(server.admin.post("/api/agents", with(base, "model", Map.of("name", "m", "temperature", 2.5)))))
        .containsExactly("model.temperature");
    assertThat(fields(server.admin.post("/api/agents", with(base, "model", Map.of("name", "m", "temperature", -0.1)))))
        .containsExactly("model.temperature");
    assertThat(fields(server.admin.post("/api/agents", with(base, "model", Map.of("name", "m", "top_p", 1.5)))))
        .containsExactly("model.top_p");
    assertThat(fields(server.admin.post("/api/agents", with(base, "max_steps", 0)))).containsExactly("max_steps");
    assertThat(fields(server.admin.post("/api/agents", with(base, "max_steps", 101)))).containsExactly("max_steps");
    assertThat(fields(server.admin.post("/api/agents", with(base, "tool_approval", "sometimes"))))
        .containsExactly("tool_approval");
    assertThat(fields(server.admin.post("/api/agents", with(base, "context_window", 10))))
        .containsExactly("context_window");
    assertThat(fields(server.admin.post("/api/agents", with(base, "max_steps", "ten")))).containsExactly("max_steps");
    Map<String, Object> noModel = new HashMap<>(base);
    noModel.remove("model");
    assertThat(fields(server.admin.post("/api/agents", noModel))).containsExactly("model");
    assertThat(server.admin.post("/api/agents", with(base, "max_steps", 100)).status()).isEqualTo(201);
  }

  @Test
  void names_are_unique_among_live_agents_and_reusable_after_delete() {
    String id = server.admin.post("/api/agents", agent("unique-bot")).json().get("id").asText();
    assertThat(server.admin.post("/api/agents", agent("unique-bot")).status()).isEqualTo(409);
    assertThat(server.admin.delete("/api/agents/" + id).status()).isEqualTo(204);
    assertThat(server.admin.get("/api/agents/" + id).status()).isEqualTo(404);
    assertThat(server.admin.delete("/api/agents/" + id).status()).isEqualTo(404);
    assertThat(server.admin.get("/api/agents?limit=200").json().get("data").findValuesAsText("id")).doesNotContain(id);
    var again = server.admin.post("/api/agents", agent("unique-bot"));
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.json().get("id").asText()).isNotEqualTo(id);

    // The runtime still reads the deleted agent's versions.
    assertThat(service.version("default", id, 1).name()).isEqualTo("unique-bot");
    // Its pinned versions stay readable for its runs, but a deleted agent has no "latest": it starts nothing new.
    assertThatThrownBy(() -> service.version("default", id, null)).isInstanceOf(DomainException.NotFound.class);
    assertThat(service.latestByName("default", "unique-bot")).get()
        .extracting(AgentVersion::agentId).isEqualTo(again.json().get("id").asText());
  }

  @Test
  void every_patch_makes_a_new_immutable_version() {
    String id = server.admin.post("/api/agents", agent("versioned")).json().get("id").asText();
    var v2 = server.admin.patch("/api/agents/" + id, Map.of("model", Map.of("temperature", 0.9)));
    assertThat(v2.status()).as(v2.text()).isEqualTo(200);
    assertThat(v2.json().get("version").asInt()).isEqualTo(2);
    assertThat(v2.json().at("/model/temperature").asDouble()).isEqualTo(0.9);
    assertThat(v2.json().at("/model/name").asText()).isEqualTo("meta-llama/Llama-3.3-70B-Instruct");
    var v3 = server.admin.patch("/api/agents/" + id, """
        {"system_prompt": "Hello {{name}}", "description": null, "max_steps": 20}""");
    assertThat(v3.json().get("version").asInt()).isEqualTo(3);
    assertThat(v3.json().get("description").isNull()).isTrue();
    assertThat(v3.json().get("variables")).extracting(JsonNode::asText).containsExactly("name");

    var versions = server.admin.get("/api/agents/" + id + "/versions").json().get("data");
    assertThat(versions.findValuesAsText("version")).containsExactly("1", "2", "3");
    var v1 = server.admin.get("/api/agents/" + id + "/versions/1").json();
    assertThat(v1.at("/model/temperature").asDouble()).isEqualTo(0.2);
    assertThat(v1.get("max_steps").asInt()).isEqualTo(10);
    assertThat(v1.get("description").asText()).isEqualTo("Answers customers");
    assertThat(server.admin.get("/api/agents/" + id + "/versions/9").status()).isEqualTo(404);
    assertThat(server.admin.get("/api/agents/" + id + "/versions/x").status()).isEqualTo(404);

    assertThat(service.version("default", id, 2).model().temperature()).isEqualTo(0.9);
    assertThat(service.version("default", id, null).maxSteps()).isEqualTo(20);
    assertThatThrownBy(() -> service.version("default", id, 7)).isInstanceOf(DomainException.NotFound.class);

    var page = server.admin.get("/api/agents/" + id + "/versions?limit=2").json();
    assertThat(page.get("data").findValuesAsText("version")).containsExactly("1", "2");
    var rest = server.admin.get("/api/agents/" + id + "/versions?limit=2&after=" + page.get("next_cursor").asText());
    assertThat(rest.json().get("data").findValuesAsText("version")).containsExactly("3");

    var audit = server.admin.get("/api/audit?resource_type=agent&resource_id=" + id).json().get("data");
    assertThat(audit.findValuesAsText("action")).containsExactly("agent.created", "agent.updated", "agent.updated");
  }

  @Test
  void invalid_patch_changes_nothing() {
    String id = server.admin.post("/api/agents", agent("patch-checked")).json().get("id").asText();
    assertThat(fields(server.admin.patch("/api/agents/" + id, Map.of("max_steps", 500)))).containsExactly("max_steps");
    assertThat(fields(server.admin.patch("/api/agents/" + id, Map.of("tools", List.of("ghost")))))
        .containsExactly("tools[0]");
    assertThat(fields(server.admin.patch("/api/agents/" + id, Map.of("colour", "red")))).containsExactly("colour");
    server.admin.post("/api/agents", agent("taken-name"));
    assertThat(server.admin.patch("/api/agents/" + id, Map.of("name", "taken-name")).status()).isEqualTo(409);
    assertThat(server.admin.get("/api/agents/" + id).json().get("version").asInt()).isEqualTo(1);
  }

  @Test
  void tool_used_by_an_agent_cannot_be_deleted() {
    String toolId = server.admin.post("/api/tools", """
        {"name": "needed_tool", "kind": "client"}""").json().get("id").asText();
    server.admin.post("/api/agents", with(agent("needs-tool"), "tools", List.of("needed_tool")));
    var r = server.admin.delete("/api/tools/" + toolId);
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("needs-tool");
  }

  @Test
  void list_pages_across_pages_without_gaps_or_repeats() {
    Http ws = Workspaces.otherWorkspace(server, "agents-paging");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(ws.post("/api/agents", Map.of("name", "paged-" + i, "model", Map.of("name", "m")))
          .json().get("id").asText());
    }
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      var page = ws.get("/api/agents?limit=2" + (cursor == null ? "" : "&after=" + cursor)).json();
      assertThat(page.get("data").size()).isLessThanOrEqualTo(2);
      seen.addAll(page.get("data").findValuesAsText("id"));
      cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
    } while (cursor != null);
    assertThat(seen).containsExactlyElementsOf(created);
    assertThat(fields(ws.get("/api/agents?limit=0"))).containsExactly("limit");
  }

  @Test
  void idempotent_creation_replays_and_a_different_body_is_422() {
    Map<String, String> key = Map.of("Idempotency-Key", "agent-create-1");
    var first = server.admin.post("/api/agents", agent("idem-bot"), key);
    var again = server.admin.post("/api/agents", agent("idem-bot"), key);
    assertThat(first.status()).isEqualTo(201);
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(server.admin.get("/api/agents?limit=200").json().get("data").findValuesAsText("name")
        .stream().filter("idem-bot"::equals)).hasSize(1);
    var different = server.admin.post("/api/agents", agent("idem-bot-2"), key);
    assertThat(different.status()).isEqualTo(422);
  }

  @Test
  void another_workspace_gets_404_everywhere() {
    String id = server.admin.post("/api/agents", agent("private-bot")).json().get("id").asText();
    Http other = Workspaces.otherWorkspace(server, "agents-other");
    assertThat(other.get("/api/agents/" + id).status()).isEqualTo(404);
    assertThat(other.patch("/api/agents/" + id, Map.of("max_steps", 3)).status()).isEqualTo(404);
    assertThat(other.delete("/api/agents/" + id).status()).isEqualTo(404);
    assertThat(other.get("/api/agents/" + id + "/versions").status()).isEqualTo(404);
    assertThat(other.get("/api/agents/" + id + "/versions/1").status()).isEqualTo(404);
    assertThat(other.get("/api/agents").json().get("data")).isEmpty();
    // Tools of the default workspace are unknown there.
    assertThat(fields(other.post("/api/agents", agent("private-bot")))).containsExactly("tools[1]");
    assertThatThrownBy(() -> service.version("elsewhere", id, null)).isInstanceOf(DomainException.NotFound.class);
    assertThat(service.latestByName("elsewhere", "private-bot")).isEmpty();
  }
}
