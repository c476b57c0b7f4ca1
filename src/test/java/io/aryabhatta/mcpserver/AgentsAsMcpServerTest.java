package io.aryabhatta.mcpserver;

import static io.aryabhatta.testing.FakeModelServer.error;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.NodeScripts;
import io.aryabhatta.testing.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A workspace's agents as an MCP server at /mcp, driven by the official MCP TypeScript SDK client. */
class AgentsAsMcpServerTest {

  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start();
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void each_agent_is_a_tool_and_a_call_runs_it_as_an_ordinary_run() throws Exception {
    setup.agent(List.of(), Map.of("name", "mcp-helper", "description", "Answers questions about the weather."));
    setup.agent(List.of(), Map.of("name", "mcp-greeter", "system_prompt", "You greet {{customer}}."));
    fake.enqueue(text("It will be sunny."), text("Hello, Ada."));

    JsonNode out = runClient(TestServer.ADMIN_KEY, List.of(
        call("mcp-helper", Map.of("input", "Weather tomorrow?")),
        call("mcp-greeter", Map.of("input", "Hi", "variables", Map.of("customer", "Ada")))));

    assertThat(out.at("/server/name").asText()).isEqualTo("aryabhatta");
    assertThat(out.at("/capabilities/tools").isObject()).isTrue();
    JsonNode tools = out.at("/tools/value/tools");
    JsonNode helper = toolNamed(tools, "mcp-helper");
    assertThat(helper.get("description").asText()).isEqualTo("Answers questions about the weather.");
    assertThat(helper.at("/inputSchema/type").asText()).isEqualTo("object");
    assertThat(helper.at("/inputSchema/properties/input/type").asText()).isEqualTo("string");
    assertThat(helper.at("/inputSchema/properties/variables/type").asText()).isEqualTo("object");
    assertThat(helper.at("/inputSchema/required")).extracting(JsonNode::asText).containsExactly("input");
    // An agent without a description still tells the calling model what the tool is.
    JsonNode greeter = toolNamed(tools, "mcp-greeter");
    assertThat(greeter.get("description").asText()).contains("mcp-greeter");
    assertThat(greeter.at("/inputSchema/properties/variables/properties/customer/type"))
        .extracting(JsonNode::asText).containsExactly("string", "number", "boolean");

    JsonNode answered = out.at("/calls/0/value");
    assertThat(answered.path("isError").asBoolean(false)).as(answered.toString()).isFalse();
    assertThat(answered.at("/content/0/type").asText()).isEqualTo("text");
    assertThat(answered.at("/content/0/text").asText()).isEqualTo("It will be sunny.");
    String runId = answered.at("/_meta/run_id").asText();
    JsonNode run = api.get("/api/runs/" + runId).json();
    assertThat(run.get("status").asText()).isEqualTo("completed");
    assertThat(run.get("output").asText()).isEqualTo("It will be sunny.");
    JsonNode conversation = api.get("/api/conversations/" + run.get("conversation_id").asText()).json();
    assertThat(conversation.at("/metadata/source").asText()).isEqualTo("mcp");
    JsonNode events = api.get("/api/runs/" + runId + "/events?format=json").json().get("data");
    assertThat(events).extracting(e -> e.get("type").asText()).contains("run.created", "run.completed");
    JsonNode steps = api.get("/api/runs/" + runId + "/steps").json().get("data");
    assertThat(steps).hasSize(1);

    JsonNode greeted = out.at("/calls/1/value");
    assertThat(greeted.at("/content/0/text").asText()).as(greeted.toString()).isEqualTo("Hello, Ada.");
    assertThat(fake.lastRequest().messages().get(0).get("content").asText()).isEqualTo("You greet Ada.");
    assertThat(fake.lastRequest().messages().get(1).get("content").asText()).isEqualTo("Hi");
  }

  @Test
  void a_failed_run_and_a_run_waiting_for_approval_are_tool_errors_naming_the_run() throws Exception {
    setup.agent(List.of(), Map.of("name", "mcp-failing"));
    setup.agent(List.of("calculator"), Map.of("name", "mcp-careful", "tool_approval", "always"));
    fake.enqueue(error(401), toolCall("calculator", "{\"expression\":\"1 + 1\"}"));

    JsonNode out = runClient(TestServer.ADMIN_KEY, List.of(
        call("mcp-failing", Map.of("input", "Hello")),
        call("mcp-careful", Map.of("input", "1 + 1?"))));

    JsonNode failed = out.at("/calls/0/value");
    assertThat(failed.get("isError").asBoolean()).as(failed.toString()).isTrue();
    String failedRun = failed.at("/_meta/run_id").asText();
    assertThat(api.get("/api/runs/" + failedRun).json().get("status").asText()).isEqualTo("failed");
    assertThat(failed.at("/content/0/text").asText())
        .contains("run failed", "model_unauthorized", "run " + failedRun, "GET /api/runs/" + failedRun);

    JsonNode waiting = out.at("/calls/1/value");
    assertThat(waiting.get("isError").asBoolean()).as(waiting.toString()).isTrue();
    String waitingRun = waiting.at("/_meta/run_id").asText();
    assertThat(api.get("/api/runs/" + waitingRun).json().get("status").asText()).isEqualTo("requires_action");
    assertThat(waiting.at("/content/0/text").asText())
        .contains(waitingRun, "approval of tool calls [calculator]", "POST /api/runs/" + waitingRun + "/approvals");
  }

  @Test
  void bad_arguments_and_unknown_tools_are_errors_that_say_so_and_start_no_run() throws Exception {
    setup.agent(List.of(), Map.of("name", "mcp-strict"));
    int requestsBefore = fake.requests().size();

    JsonNode out = runClient(TestServer.ADMIN_KEY, List.of(
        call("mcp-strict", Map.of()),
        call("mcp-strict", Map.of("input", "  ")),
        call("mcp-strict", Map.of("input", 42)),
        call("mcp-strict", Map.of("input", "Hi", "variables", Map.of("customer", Map.of("name", "Ada")))),
        call("mcp-strict", Map.of("input", "Hi", "variables", "Ada")),
        call("no-such-agent", Map.of("input", "Hi"))));

    for (int i = 0; i < 5; i++) {
      JsonNode result = out.at("/calls/" + i + "/value");
      assertThat(result.path("isError").asBoolean()).as(out.at("/calls/" + i).toString()).isTrue();
      assertThat(result.at("/content/0/text").asText()).as(result.toString()).containsAnyOf("input", "variables");
    }
    assertThat(out.at("/calls/1/value/content/0/text").asText()).contains("'input'", "non-empty string");
    assertThat(out.at("/calls/3/value/content/0/text").asText()).contains("variables");
    JsonNode unknown = out.at("/calls/5");
    String unknownText = unknown.path("ok").asBoolean()
        ? unknown.at("/value/content/0/text").asText() : unknown.at("/error/message").asText();
    assertThat(unknownText).as(unknown.toString()).contains("no agent", "'no-such-agent'");
    assertThat(fake.requests().size()).isEqualTo(requestsBefore);
  }

  @Test
  void a_workspace_sees_only_its_own_agents() throws Exception {
    setup.agent(List.of(), Map.of("name", "mcp-private-agent"));
    String otherKey = keyOfNewWorkspace("mcp-other");

    JsonNode out = runClient(otherKey, List.of(call("mcp-private-agent", Map.of("input", "Hi"))));

    assertThat(out.at("/connect/ok").asBoolean()).as(out.toString()).isTrue();
    assertThat(out.at("/tools/value/tools")).isEmpty();
    JsonNode call = out.at("/calls/0");
    boolean refused = !call.path("ok").asBoolean() || call.at("/value/isError").asBoolean();
    assertThat(refused).as(call.toString()).isTrue();
  }

  @Test
  void a_wrong_key_is_refused_with_401() throws Exception {
    JsonNode out = runClient("not-a-key", List.of());

    assertThat(out.at("/connect/ok").asBoolean()).isFalse();
    assertThat(out.at("/connect/error/code").asInt()).as(out.toString()).isEqualTo(401);
    assertThat(out.at("/connect/error/message").asText()).doesNotContain("not-a-key");

    Map<String, String> mcpHeaders = Map.of("Accept", "application/json, text/event-stream", "Content-Type", "application/json");
    String initialize = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        + "\"2025-03-26\",\"capabilities\":{},\"clientInfo\":{\"name\":\"curl\",\"version\":\"1\"}}}";
    Http.Response anonymous = server.anonymous().send("POST", "/mcp", initialize, mcpHeaders);
    assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(401);
    assertThat(anonymous.json().get("detail").asText()).contains("Bearer");
    Http.Response wrong = server.as("not-a-key").send("POST", "/mcp", initialize, mcpHeaders);
    assertThat(wrong.status()).as(wrong.toString()).isEqualTo(401);
    assertThat(wrong.text()).doesNotContain("not-a-key");

    Http.Response ok = api.send("POST", "/mcp", initialize, mcpHeaders);
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
    assertThat(ok.json().at("/result/serverInfo/name").asText()).isEqualTo("aryabhatta");
  }

  @Test
  void malformed_requests_are_client_errors_not_500s() {
    Map<String, String> mcpHeaders = Map.of("Accept", "application/json, text/event-stream", "Content-Type", "application/json");
    Http.Response notJson = api.send("POST", "/mcp", "{not json", mcpHeaders);
    assertThat(notJson.status()).as(notJson.toString()).isEqualTo(400);
    Http.Response noAccept = api.send("POST", "/mcp",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", Map.of("Accept", "application/json", "Content-Type", "application/json"));
    assertThat(noAccept.status()).as(noAccept.toString()).isEqualTo(400);
    Http.Response unknownMethod = api.send("POST", "/mcp",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such\"}", mcpHeaders);
    assertThat(unknownMethod.status()).as(unknownMethod.toString()).isLessThan(500);
    assertThat(unknownMethod.text()).contains("error");
  }

  private static JsonNode toolNamed(JsonNode tools, String name) {
    for (JsonNode tool : tools) {
      if (tool.get("name").asText().equals(name)) {
        return tool;
      }
    }
    throw new AssertionError("no tool " + name + " in " + tools);
  }

  private static Map<String, Object> call(String name, Map<String, Object> arguments) {
    return Map.of("name", name, "arguments", arguments);
  }

  private static String keyOfNewWorkspace(String name) {
    Http.Response workspace = api.post("/api/workspaces", Map.of("name", name));
    assertThat(workspace.status()).as(workspace.toString()).isEqualTo(201);
    Http.Response key = api.post("/api/workspaces/" + workspace.json().get("id").asText() + "/keys", Map.of());
    assertThat(key.status()).as(key.toString()).isEqualTo(201);
    return key.json().get("key").asText();
  }

  private static JsonNode runClient(String key, List<Map<String, Object>> calls) throws Exception {
    NodeScripts.assumeInstalled("@modelcontextprotocol/sdk");
    return NodeScripts.runJson("mcp-client-check.mjs", Map.of(
        "ARYABHATTA_BASE_URL", server.baseUrl(),
        "ARYABHATTA_KEY", key,
        "CALLS", Http.JSON.writeValueAsString(calls)));
  }

}
