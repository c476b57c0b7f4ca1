package io.aryabhatta.mcp;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.NodeMcpServer;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MCP servers against real ones: the published server-everything and a small probe server, both
 * started here in node on loopback (allowlisted, as an operator would for a local MCP server).
 */
class McpServersTest {
  static NodeMcpServer everything;
  static NodeMcpServer probe;
  static Path probeTools;
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  static final List<NodeMcpServer> extra = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    Assumptions.assumeTrue(NodeMcpServer.nodeAvailable(), "node is not installed");
    everything = NodeMcpServer.everything();
    probeTools = tools(Map.of("whoami", "whoami", "fail", "fail", "hang", "hang"));
    probe = NodeMcpServer.probe(probeTools);
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
    created(api.post("/api/secrets", Map.of("name", "TEAM_TOKEN", "value", "s3cr3t-team-token")));
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {server, fake, everything, probe}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // best effort
        }
      }
    }
    extra.forEach(NodeMcpServer::close);
  }

  // --- import ---------------------------------------------------------------------------------

  @Test
  void importing_server_everything_creates_prefixed_mcp_tools_with_their_schemas() {
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "ev", "url", everything.url())));

    assertThat(created.get("id").asText()).isNotBlank();
    assertThat(created.get("timeout_ms").asInt()).isEqualTo(30000);
    List<String> names = new ArrayList<>();
    created.get("tools").forEach(t -> names.add(t.get("name").asText()));
    assertThat(names).contains("ev__echo", "ev__get-sum", "ev__get-tiny-image");
    assertThat(names).allMatch(n -> n.startsWith("ev__"));
    JsonNode echo = api.get("/api/tools/" + toolId(created, "ev__echo")).json();
    assertThat(echo.get("kind").asText()).isEqualTo("mcp");
    assertThat(echo.get("description").asText()).isEqualTo("Echoes back the input string");
    assertThat(echo.at("/parameters/type").asText()).isEqualTo("object");
    assertThat(echo.at("/parameters/properties/message/type").asText()).isEqualTo("string");
    assertThat(echo.at("/parameters/required").toString()).contains("message");
    assertThat(echo.get("idempotent").asBoolean()).isTrue(); // server-everything marks echo idempotent

    JsonNode listed = api.get("/api/mcp_servers").json();
    assertThat(listed.get("data")).anySatisfy(s -> assertThat(s.get("name").asText()).isEqualTo("ev"));
    assertThat(api.get("/api/mcp_servers/" + created.get("id").asText()).json().get("tools").size())
        .isEqualTo(created.get("tools").size());
    JsonNode audit = api.get("/api/audit?resource_type=mcp_server&resource_id=" + created.get("id").asText()).json();
    assertThat(audit.toString()).contains("mcp_server.created");
  }

  @Test
  void test_button_calls_mcp_tools_and_joins_their_text() {
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "evtest", "url", everything.url())));

    JsonNode echo = api.post("/api/tools/" + toolId(created, "evtest__echo") + "/test",
        Map.of("arguments", Map.of("message", "hello mcp"))).json();
    JsonNode sum = api.post("/api/tools/" + toolId(created, "evtest__get-sum") + "/test",
        Map.of("arguments", Map.of("a", 2, "b", 3.5))).json();
    JsonNode image = api.post("/api/tools/" + toolId(created, "evtest__get-tiny-image") + "/test",
        Map.of("arguments", Map.of())).json();
    Http.Response invalid = api.post("/api/tools/" + toolId(created, "evtest__get-sum") + "/test",
        Map.of("arguments", Map.of("a", "two")));

    assertThat(echo.get("status").asText()).as(echo.toString()).isEqualTo("ok");
    assertThat(echo.get("result").asText()).isEqualTo("Echo: hello mcp");
    assertThat(sum.get("result").asText()).contains("5.5");
    assertThat(image.get("status").asText()).isEqualTo("ok");
    assertThat(image.get("result").asText()).contains("[image: image/png");
    assertThat(invalid.status()).as(invalid.toString()).isEqualTo(422);
  }

  @Test
  void an_agent_run_calls_an_mcp_tool_and_the_model_gets_its_result() {
    created(api.post("/api/mcp_servers", Map.of("name", "evrun", "url", everything.url())));
    String agent = setup.agent(List.of("evrun__get-sum"), Map.of());
    fake.enqueue(toolCall("evrun__get-sum", "{\"a\": 2, \"b\": 3}"), text("It is 5."));

    JsonNode run = runAndWait(agent, "What is 2 + 3?");

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    assertThat(run.get("output").asText()).isEqualTo("It is 5.");
    JsonNode step = toolStep(run);
    assertThat(step.get("status").asText()).isEqualTo("completed");
    assertThat(step.get("result").asText()).isEqualTo("The sum of 2 and 3 is 5.");
    assertThat(fake.lastRequest().messages().toString()).contains("The sum of 2 and 3 is 5.");
  }

  // --- what a call carries ------------------------------------------------------------------

  @Test
  void a_call_sends_the_idempotency_key_in_meta_and_secret_headers_that_never_show() {
    created(api.post("/api/mcp_servers", Map.of("name", "probe", "url", probe.url(),
        "headers", Map.of("Authorization", "Bearer {{secret.TEAM_TOKEN}}", "X-Team", "blue"))));
    String agent = setup.agent(List.of("probe__whoami"), Map.of());
    fake.enqueue(toolCall("probe__whoami", "{\"text\": \"hi\"}"), text("Done."));

    JsonNode run = runAndWait(agent, "Who am I?");

    assertThat(run.get("status").asText()).isEqualTo("completed");
    JsonNode step = toolStep(run);
    JsonNode seen = Http.JSON.valueToTree(parse(step.get("result").asText()));
    assertThat(seen.at("/meta/idempotency_key").asText()).isEqualTo(step.get("idempotency_key").asText());
    assertThat(seen.at("/arguments/text").asText()).isEqualTo("hi");
    assertThat(seen.get("x_team").asText()).isEqualTo("blue");
    assertThat(seen.get("authorization").asText()).isEqualTo("Bearer ***");
    String everything = api.get("/api/runs/" + run.get("id").asText() + "/steps").text()
        + api.get("/api/mcp_servers").text() + api.get("/api/audit").text() + fake.lastRequest().messages();
    assertThat(everything).doesNotContain("s3cr3t-team-token");
  }

  @Test
  void an_is_error_result_is_a_tool_error() {
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "probefail", "url", probe.url())));

    JsonNode result = api.post("/api/tools/" + toolId(created, "probefail__fail") + "/test",
        Map.of("arguments", Map.of("text", "boom"))).json();

    assertThat(result.get("status").asText()).isEqualTo("error");
    assertThat(result.get("result").asText()).isEqualTo("failed on purpose: boom");
  }

  @Test
  void a_hanging_mcp_tool_leaves_its_outcome_unknown_after_the_server_timeout_and_a_person_settles_it() {
    created(api.post("/api/mcp_servers", Map.of("name", "slow", "url", probe.url(), "timeout_ms", 1500)));
    String agent = setup.agent(List.of("slow__hang"), Map.of());
    fake.enqueue(toolCall("slow__hang", "{}"), text("It was settled by hand."));

    long started = System.nanoTime();
    JsonNode run = runAndWait(agent, "Wait for it");
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;

    // The call reached the server, which never answered: it may have acted, so nobody retries it.
    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    JsonNode step = toolStep(run);
    assertThat(step.get("status").asText()).isEqualTo("unknown_outcome");
    assertThat(step.get("error").asText()).contains("outcome unknown").contains("did not answer within 1500 ms");
    assertThat(elapsedMs).isLessThan(15_000);

    String callId = run.at("/required_action/tool_calls/0/id").asText();
    assertThat(api.post("/api/runs/" + run.get("id").asText() + "/tool_outputs", Map.of("tool_outputs",
        List.of(Map.of("tool_call_id", callId, "output", "it did nothing")))).status()).isEqualTo(200);
    assertThat(setup.awaitSettled(run.get("id").asText()).get("output").asText()).isEqualTo("It was settled by hand.");
  }

  // --- server down ----------------------------------------------------------------------------

  @Test
  void when_the_mcp_server_dies_a_call_is_a_tool_error_and_the_run_still_completes() {
    NodeMcpServer dying = NodeMcpServer.everything();
    extra.add(dying);
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "dying", "url", dying.url())));
    String agent = setup.agent(List.of("dying__echo"), Map.of());
    dying.kill();
    fake.enqueue(toolCall("dying__echo", "{\"message\": \"anyone?\"}"), text("The tool is down."));

    JsonNode tested = api.post("/api/tools/" + toolId(created, "dying__echo") + "/test",
        Map.of("arguments", Map.of("message", "anyone?"))).json();
    JsonNode run = runAndWait(agent, "Echo something");

    assertThat(tested.get("status").asText()).isEqualTo("error");
    assertThat(tested.get("result").asText()).contains("could not connect to MCP server 'dying'");
    assertThat(run.get("status").asText()).isEqualTo("completed");
    assertThat(run.get("output").asText()).isEqualTo("The tool is down.");
    JsonNode step = toolStep(run);
    assertThat(step.get("status").asText()).isEqualTo("failed");
    assertThat(step.get("error").asText()).contains("could not connect to MCP server 'dying'");
  }

  @Test
  void an_unreachable_server_at_creation_is_a_502_and_nothing_is_stored() {
    String url = "http://127.0.0.1:" + NodeMcpServer.freePort() + "/mcp";

    Http.Response r = api.post("/api/mcp_servers", Map.of("name", "nowhere", "url", url));

    assertThat(r.status()).as(r.toString()).isEqualTo(502);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.json().get("detail").asText()).contains("MCP server 'nowhere'").contains("could not connect");
    assertThat(api.get("/api/mcp_servers").text()).doesNotContain("nowhere");
    assertThat(api.get("/api/tools?limit=200").text()).doesNotContain("nowhere__");
  }

  @Test
  void a_loopback_address_outside_the_allowlist_is_refused_before_connecting() {
    Http.Response r = api.post("/api/mcp_servers", Map.of("name", "sneaky", "url", "http://[::1]:9/mcp"));

    assertThat(r.status()).as(r.toString()).isEqualTo(422);
    assertThat(r.json().at("/errors/0/field").asText()).isEqualTo("url");
    assertThat(r.json().at("/errors/0/message").asText()).contains("loopback");
  }

  // --- refresh and delete ---------------------------------------------------------------------

  @Test
  void refresh_adds_new_tools_updates_changed_ones_and_removes_vanished_ones() throws IOException {
    Path file = tools(Map.of("keep", "whoami", "change", "whoami", "gone", "whoami"));
    NodeMcpServer changing = NodeMcpServer.probe(file);
    extra.add(changing);
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "chg", "url", changing.url())));
    String keepId = toolId(created, "chg__keep");
    String goneId = toolId(created, "chg__gone");
    writeTools(file, List.of(tool("keep", "whoami", "keep"), tool("change", "whoami", "a new description"),
        tool("fresh", "whoami", "fresh")));

    Http.Response r = api.post("/api/mcp_servers/" + created.get("id").asText() + "/refresh", Map.of());

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonNode refreshed = r.json();
    assertThat(refreshed.get("added").toString()).isEqualTo("[\"chg__fresh\"]");
    assertThat(refreshed.get("updated").toString()).isEqualTo("[\"chg__change\"]");
    assertThat(refreshed.get("removed").toString()).isEqualTo("[\"chg__gone\"]");
    assertThat(toolId(refreshed.get("server"), "chg__keep")).isEqualTo(keepId);
    assertThat(api.get("/api/tools/" + goneId).status()).isEqualTo(404);
    assertThat(api.get("/api/tools/" + toolId(refreshed.get("server"), "chg__change")).json()
        .get("description").asText()).isEqualTo("a new description");
    JsonNode fresh = api.post("/api/tools/" + toolId(refreshed.get("server"), "chg__fresh") + "/test",
        Map.of("arguments", Map.of("text", "new"))).json();
    assertThat(fresh.get("status").asText()).isEqualTo("ok");
  }

  @Test
  void refresh_refuses_to_remove_a_vanished_tool_that_an_agent_uses() throws IOException {
    Path file = tools(Map.of("used", "whoami"));
    NodeMcpServer changing = NodeMcpServer.probe(file);
    extra.add(changing);
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "usedref", "url", changing.url())));
    setup.agent(List.of("usedref__used"), Map.of());
    writeTools(file, List.of());

    Http.Response r = api.post("/api/mcp_servers/" + created.get("id").asText() + "/refresh", Map.of());

    assertThat(r.status()).as(r.toString()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("usedref__used");
    assertThat(api.get("/api/tools/" + toolId(created, "usedref__used")).status()).isEqualTo(200);
  }

  @Test
  void deleting_a_server_removes_its_tools_unless_a_live_agent_uses_one() {
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "del", "url", probe.url())));
    String serverId = created.get("id").asText();
    String agent = setup.agent(List.of("del__whoami"), Map.of());

    Http.Response refused = api.delete("/api/mcp_servers/" + serverId);
    assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
    assertThat(refused.json().get("detail").asText()).contains("del__whoami");

    assertThat(api.delete("/api/agents/" + agent).status()).isEqualTo(204);
    assertThat(api.delete("/api/mcp_servers/" + serverId).status()).isEqualTo(204);
    assertThat(api.get("/api/mcp_servers/" + serverId).status()).isEqualTo(404);
    assertThat(api.get("/api/tools/" + toolId(created, "del__whoami")).status()).isEqualTo(404);
    assertThat(api.get("/api/audit?resource_type=mcp_server&resource_id=" + serverId).text())
        .contains("mcp_server.deleted");
  }

  // --- input, names, tenancy, idempotency ----------------------------------------------------

  @Test
  void invalid_input_is_a_422_per_field() {
    Map<String, Object> body = new HashMap<>();
    body.put("name", "bad name!");
    body.put("url", "ftp://example.com/mcp");
    body.put("headers", Map.of("X-Key", "{{secret.NO_SUCH_SECRET}}", "Mcp-Session-Id", "x"));
    body.put("timeout_ms", 0);

    Http.Response r = api.post("/api/mcp_servers", body);

    assertThat(r.status()).as(r.toString()).isEqualTo(422);
    List<String> fields = new ArrayList<>();
    r.json().get("errors").forEach(e -> fields.add(e.get("field").asText()));
    assertThat(fields).containsExactlyInAnyOrder("name", "url", "headers.X-Key", "headers.Mcp-Session-Id",
        "timeout_ms");
    assertThat(r.text()).contains("unknown secret NO_SUCH_SECRET");
  }

  @Test
  void a_taken_name_is_a_409() {
    created(api.post("/api/mcp_servers", Map.of("name", "twice", "url", probe.url())));

    Http.Response r = api.post("/api/mcp_servers", Map.of("name", "twice", "url", probe.url()));

    assertThat(r.status()).as(r.toString()).isEqualTo(409);
  }

  @Test
  void the_same_idempotency_key_creates_one_server() {
    Map<String, Object> body = Map.of("name", "idem", "url", probe.url());
    Map<String, String> key = Map.of("Idempotency-Key", "mcp-create-1");

    Http.Response first = api.post("/api/mcp_servers", body, key);
    Http.Response second = api.post("/api/mcp_servers", body, key);

    assertThat(first.status()).isEqualTo(201);
    assertThat(second.status()).isEqualTo(201);
    assertThat(second.json().get("id").asText()).isEqualTo(first.json().get("id").asText());
  }

  @Test
  void another_workspace_cannot_see_or_use_a_server() {
    JsonNode created = created(api.post("/api/mcp_servers", Map.of("name", "mine", "url", probe.url())));
    Http other = Workspaces.otherWorkspace(server, "mcp-other");
    String id = created.get("id").asText();

    assertThat(other.get("/api/mcp_servers/" + id).status()).isEqualTo(404);
    assertThat(other.post("/api/mcp_servers/" + id + "/refresh", Map.of()).status()).isEqualTo(404);
    assertThat(other.delete("/api/mcp_servers/" + id).status()).isEqualTo(404);
    assertThat(other.get("/api/mcp_servers").json().get("data")).isEmpty();
    assertThat(other.post("/api/tools/" + toolId(created, "mine__whoami") + "/test", Map.of()).status())
        .isEqualTo(404);
  }

  // --- helpers --------------------------------------------------------------------------------

  private static JsonNode runAndWait(String agentId, String input) {
    Http.Response r = api.post("/api/agents/" + agentId + "/runs?wait=true", Map.of("input", input));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return setup.awaitSettled(r.json().get("id").asText());
  }

  private static JsonNode toolStep(JsonNode run) {
    JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
    for (JsonNode step : steps) {
      if (step.get("type").asText().equals("tool_call")) {
        return step;
      }
    }
    throw new AssertionError("no tool step in " + steps);
  }

  private static String toolId(JsonNode server, String name) {
    for (JsonNode tool : server.get("tools")) {
      if (tool.get("name").asText().equals(name)) {
        return tool.get("id").asText();
      }
    }
    throw new AssertionError("no tool " + name + " in " + server);
  }

  private static JsonNode created(Http.Response r) {
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  private static Object parse(String json) {
    try {
      return Http.JSON.readValue(json, Object.class);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  private static Map<String, String> tool(String name, String behaviour, String description) {
    return Map.of("name", name, "behaviour", behaviour, "description", description);
  }

  private static Path tools(Map<String, String> behaviourByName) throws IOException {
    Path file = Files.createTempFile("mcp-tools-", ".json");
    List<Map<String, String>> tools = new ArrayList<>();
    behaviourByName.forEach((name, behaviour) -> tools.add(tool(name, behaviour, name)));
    writeTools(file, tools);
    return file;
  }

  private static void writeTools(Path file, List<Map<String, String>> tools) throws IOException {
    Files.writeString(file, Http.JSON.writeValueAsString(tools));
  }
}
