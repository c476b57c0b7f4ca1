package io.aryabhatta.openai;

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
import io.aryabhatta.testing.ToolTarget;
import io.aryabhatta.testing.Workspaces;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Responses API, driven by the official OpenAI Node SDK's {@code responses} client and by plain HTTP. */
class ResponsesApiTest {
  static FakeModelServer fake;
  static TestServer server;
  static ToolTarget target;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"));
    target = ToolTarget.start();
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    target.close();
    fake.close();
  }

  @Test
  void the_official_openai_node_sdk_creates_streams_continues_and_retrieves_responses() throws Exception {
    NodeScripts.assumeInstalled("openai");
    setup.agent(List.of("calculator"), Map.of("name", "resp-calc"));
    setup.httpTool("resp_refund", "POST", target.url("/refund"), Map.of());
    setup.agent(List.of("resp_refund"), Map.of("name", "resp-refunds", "tool_approval", "always"));
    int refundsBefore = target.calls().size();
    fake.enqueue(
        toolCall("calculator", "{\"expression\":\"6 * 7\"}"), text("It is 42."),
        text("Doubled, 84."),
        toolCall("calculator", "{\"expression\":\"2 + 3\"}"),
        text("The answer is 5.").withChunkDelay(Duration.ofMillis(30)),
        text("Hello."),
        toolCall("get_weather", "{\"city\":\"Paris\"}"), text("It is sunny in Paris."),
        toolCall("get_weather", "{\"city\":\"Oslo\"}"), text("Cold in Oslo.").withChunkDelay(Duration.ofMillis(20)),
        toolCall("resp_refund", "{\"q\":\"7\"}"), text("Refunded."),
        error(401), error(401));

    JsonNode out = runNodeScript(Map.of("CALC_MODEL", "resp-calc", "APPROVAL_MODEL", "resp-refunds"));

    // 1. A response: the platform's calculator call as an item, then the answer, with usage.
    JsonNode plain = out.get("plain");
    assertThat(plain.get("id").asText()).startsWith("resp_");
    assertThat(plain.get("object").asText()).isEqualTo("response");
    assertThat(plain.get("status").asText()).isEqualTo("completed");
    assertThat(plain.get("model").asText()).isEqualTo("resp-calc");
    assertThat(plain.get("instructions").asText()).isEqualTo("Answer briefly.");
    JsonNode output = plain.get("output");
    assertThat(types(output)).containsExactly("mcp_call", "message");
    assertThat(output.get(0).get("name").asText()).isEqualTo("calculator");
    assertThat(output.get(0).get("output").asText()).isEqualTo("42");
    assertThat(output.get(1).at("/content/0/type").asText()).isEqualTo("output_text");
    assertThat(out.get("plain_output_text").asText()).isEqualTo("It is 42.");
    assertThat(plain.at("/usage/input_tokens").asInt()).isPositive();
    assertThat(plain.at("/usage/total_tokens").asInt())
        .isEqualTo(plain.at("/usage/input_tokens").asInt() + plain.at("/usage/output_tokens").asInt());
    // The instructions follow the agent's prompt; the response is a run like any other.
    String runId = plain.get("run_id").asText();
    JsonNode steps = api.get("/api/runs/" + runId + "/steps").json().get("data");
    assertThat(steps).hasSize(3);
    assertThat(steps.get(0).at("/request/messages/0/content").asText()).endsWith("Answer briefly.");

    // 2. previous_response_id continues the same conversation, in a new run.
    JsonNode next = out.get("next");
    assertThat(out.get("next_output_text").asText()).isEqualTo("Doubled, 84.");
    assertThat(next.get("previous_response_id").asText()).isEqualTo(plain.get("id").asText());
    assertThat(next.get("run_id").asText()).isNotEqualTo(runId);
    String seen = api.get("/api/runs/" + next.get("run_id").asText() + "/steps").json()
        .at("/data/0/request/messages").toString();
    assertThat(seen).contains("What is 6 * 7?").contains("It is 42.").contains("And doubled?");
    assertThat(api.get("/api/runs/" + next.get("run_id").asText()).json().get("conversation_id"))
        .isEqualTo(api.get("/api/runs/" + runId).json().get("conversation_id"));

    // 3. Retrieved as it was answered.
    assertThat(out.get("retrieved").get("output")).isEqualTo(plain.get("output"));

    // 4. Streamed: the documented event sequence, the deltas making up the text.
    List<String> events = new ArrayList<>();
    StringBuilder deltas = new StringBuilder();
    int sequence = 0;
    for (JsonNode e : out.get("stream")) {
      events.add(e.get("type").asText());
      assertThat(e.get("sequence_number").asInt()).isEqualTo(sequence++);
      if (e.get("type").asText().equals("response.output_text.delta")) {
        deltas.append(e.get("delta").asText());
      }
    }
    assertThat(events.get(0)).isEqualTo("response.created");
    assertThat(events.get(1)).isEqualTo("response.in_progress");
    assertThat(events).containsSubsequence("response.output_item.added", "response.output_item.done",
        "response.output_item.added", "response.content_part.added", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed");
    assertThat(events.get(events.size() - 1)).isEqualTo("response.completed");
    assertThat(events.stream().filter(t -> t.equals("response.output_text.delta")).count()).isGreaterThan(1);
    assertThat(deltas.toString()).isEqualTo("The answer is 5.");
    JsonNode completed = out.get("stream").get(out.get("stream").size() - 1).get("response");
    assertThat(types(completed.get("output"))).containsExactly("mcp_call", "message");
    assertThat(completed.at("/output/1/content/0/text").asText()).isEqualTo("The answer is 5.");

    // 5. store: false answers but keeps nothing retrievable as a response.
    assertThat(out.at("/unstored/status").asText()).isEqualTo("completed");
    assertThat(out.at("/unstored_retrieve/ok").asBoolean()).isFalse();
    assertThat(out.at("/unstored_retrieve/error/status").asInt()).isEqualTo(404);

    // 6. A client function tool: the response ends with the call; its output continues the run.
    JsonNode asked = out.get("function_call");
    assertThat(asked.get("status").asText()).isEqualTo("completed");
    JsonNode call = asked.get("output").get(asked.get("output").size() - 1);
    assertThat(call.get("type").asText()).isEqualTo("function_call");
    assertThat(call.get("name").asText()).isEqualTo("get_weather");
    assertThat(Http.JSON.readTree(call.get("arguments").asText()).get("city").asText()).isEqualTo("Paris");
    JsonNode answered = out.get("function_answered");
    assertThat(out.get("function_answered_text").asText()).isEqualTo("It is sunny in Paris.");
    assertThat(answered.get("run_id").asText()).isEqualTo(asked.get("run_id").asText());
    assertThat(types(answered.get("output"))).containsExactly("message");
    JsonNode weatherRun = api.get("/api/runs/" + asked.get("run_id").asText()).json();
    assertThat(weatherRun.get("status").asText()).isEqualTo("completed");
    JsonNode offered = api.get("/api/runs/" + asked.get("run_id").asText() + "/steps").json()
        .at("/data/0/request/tools");
    assertThat(offered.toString()).contains("get_weather").contains("calculator");
    assertThat(fake.requests().stream().anyMatch(r -> r.body().toString().contains("sunny"))).isTrue();
    // The first response stays as it was answered: the run's later steps are the second one's.
    JsonNode askedAgain = out.get("function_call_again");
    assertThat(types(askedAgain.get("output"))).containsExactly("function_call");
    assertThat(askedAgain.at("/usage/total_tokens")).isEqualTo(asked.at("/usage/total_tokens"));
    assertThat(out.at("/function_call_answered_twice/error/status").asInt()).isEqualTo(409);

    // 6b. Streamed: the function call item, then after its output only the rest of the run.
    JsonNode asking = out.get("function_stream");
    JsonNode askingEnd = asking.get(asking.size() - 1);
    assertThat(askingEnd.get("type").asText()).isEqualTo("response.completed");
    assertThat(types(askingEnd.at("/response/output"))).containsExactly("function_call");
    assertThat(eventTypes(asking)).contains("response.output_item.added", "response.output_item.done");
    JsonNode going = out.get("function_stream_answered");
    assertThat(going.get(0).get("type").asText()).isEqualTo("response.created");
    JsonNode goingEnd = going.get(going.size() - 1);
    assertThat(goingEnd.get("type").asText()).isEqualTo("response.completed");
    assertThat(types(goingEnd.at("/response/output"))).containsExactly("message");
    assertThat(goingEnd.at("/response/output/0/content/0/text").asText()).isEqualTo("Cold in Oslo.");
    StringBuilder streamed = new StringBuilder();
    going.forEach(e -> {
      if (e.get("type").asText().equals("response.output_text.delta")) {
        streamed.append(e.get("delta").asText());
      }
    });
    assertThat(streamed.toString()).isEqualTo("Cold in Oslo.");

    // 7. Approval asked as an item, given as an item; the tool then runs once.
    JsonNode pending = out.get("approval_request");
    JsonNode request = pending.get("output").get(pending.get("output").size() - 1);
    assertThat(request.get("type").asText()).isEqualTo("mcp_approval_request");
    assertThat(request.get("name").asText()).isEqualTo("resp_refund");
    JsonNode approved = out.get("approved");
    assertThat(types(approved.get("output"))).containsExactly("mcp_call", "message");
    assertThat(approved.at("/output/1/content/0/text").asText()).isEqualTo("Refunded.");
    assertThat(target.calls()).as(approved.toString()).hasSize(refundsBefore + 1);

    // 8. Errors in OpenAI's shape.
    assertThat(out.at("/unknown_model/error/status").asInt()).isEqualTo(404);
    assertThat(out.at("/unknown_model/error/code").asText()).isEqualTo("model_not_found");
    assertThat(out.at("/bad_input/error/status").asInt()).isEqualTo(400);
    assertThat(out.at("/bad_input/error/param").asText()).isEqualTo("input");
    assertThat(out.at("/failed/error/status").asInt()).isEqualTo(502);
    assertThat(out.at("/failed/error/message").asText()).contains("run ");
    JsonNode failedStream = out.get("failed_stream");
    JsonNode last = failedStream.get(failedStream.size() - 1);
    assertThat(last.get("type").asText()).isEqualTo("response.failed");
    assertThat(last.at("/response/status").asText()).isEqualTo("failed");
    assertThat(last.at("/response/error/code").asText()).startsWith("model_");
    assertThat(out.at("/unknown_previous/error/status").asInt()).isEqualTo(400);
    assertThat(out.at("/unknown_previous/error/param").asText()).isEqualTo("previous_response_id");
  }

  @Test
  void responses_of_another_workspace_cannot_be_read_or_continued() {
    setup.agent(List.of(), Map.of("name", "resp-private"));
    fake.enqueue(text("Secret answer."));
    Http.Response created = api.post("/v1/responses", Map.of("model", "resp-private", "input", "hello"));
    assertThat(created.status()).as(created.toString()).isEqualTo(200);
    String id = created.json().get("id").asText();

    Http other = Workspaces.otherWorkspace(server, "resp-other");
    Http.Response read = other.get("/v1/responses/" + id);
    assertThat(read.status()).isEqualTo(404);
    assertThat(read.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
    Http.Response continued = other.post("/v1/responses", Map.of("model", "resp-private", "input", "more",
        "previous_response_id", id));
    assertThat(continued.status()).isEqualTo(400);
    assertThat(continued.json().at("/error/param").asText()).isEqualTo("previous_response_id");
  }

  @Test
  void bad_requests_are_refused_with_the_field_at_fault_and_start_no_run() {
    setup.agent(List.of("calculator"), Map.of("name", "resp-strict"));
    int requestsBefore = fake.requests().size();
    record Case(Object body, String param) {}
    List<Case> cases = List.of(
        new Case(Map.of("input", "x"), "model"),
        new Case(Map.of("model", "resp-strict"), "input"),
        new Case(Map.of("model", "resp-strict", "input", List.of(Map.of("role", "user", "content",
            List.of(Map.of("type", "input_image", "image_url", "http://x/y.png"))))), "input[0].content[0]"),
        new Case(Map.of("model", "resp-strict", "input", "x", "tools", List.of(Map.of("type", "web_search"))),
            "tools[0].type"),
        new Case(Map.of("model", "resp-strict", "input", "x", "tools", List.of(Map.of("type", "function", "name",
            "calculator"))), "tools[0].name"),
        new Case(Map.of("model", "resp-strict", "input", List.of(Map.of("type", "function_call_output",
            "call_id", "c1", "output", "x"))), "previous_response_id"),
        new Case(Map.of("model", "resp-strict", "input", "x", "stream", "yes"), "stream"),
        new Case(Map.of("model", "resp-strict", "input", "x", "tools", List.of(Map.of("type", "function", "name",
            "f", "parameters", Map.of("type", "nonsense")))), "tools[0].parameters"),
        new Case(Map.of("model", "resp-strict", "input", "x", "background", true, "stream", true), "background"));
    for (Case c : cases) {
      Http.Response r = api.post("/v1/responses", c.body());
      assertThat(r.status()).as(c + " → " + r).isEqualTo(400);
      assertThat(r.json().at("/error/param").asText()).as(c.toString()).isEqualTo(c.param());
      assertThat(r.header("x-should-retry")).as(c.toString()).isEqualTo("false");
    }
    Http.Response malformed = api.send("POST", "/v1/responses", "{\"model\": ", Map.of("Content-Type", "application/json"));
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(fake.requests()).hasSize(requestsBefore);
  }

  @Test
  void a_response_stays_as_answered_and_only_the_latest_response_continues_a_conversation() {
    setup.agent(List.of(), Map.of("name", "resp-chain"));
    fake.enqueue(text("One."), text("Two."), text("Background done.").withDelay(Duration.ofMillis(300)));
    JsonNode first = api.post("/v1/responses", Map.of("model", "resp-chain", "input", "first")).json();
    JsonNode second = api.post("/v1/responses", Map.of("model", "resp-chain", "input", "second",
        "previous_response_id", first.get("id").asText())).json();
    assertThat(second.at("/output/0/content/0/text").asText()).isEqualTo("Two.");

    // Continuing the older response would show the model the later turn: refused, nothing runs.
    int before = fake.requests().size();
    Http.Response branch = api.post("/v1/responses", Map.of("model", "resp-chain", "input", "third",
        "previous_response_id", first.get("id").asText()));
    assertThat(branch.status()).as(branch.toString()).isEqualTo(400);
    assertThat(branch.json().at("/error/param").asText()).isEqualTo("previous_response_id");
    assertThat(branch.json().at("/error/message").asText()).contains("fork");
    assertThat(fake.requests()).hasSize(before);

    // background: answered at once, read later.
    Http.Response background = api.post("/v1/responses", Map.of("model", "resp-chain", "input", "later",
        "previous_response_id", second.get("id").asText(), "background", true));
    assertThat(background.status()).as(background.toString()).isEqualTo(200);
    assertThat(background.json().get("status").asText()).isIn("queued", "in_progress");
    String id = background.json().get("id").asText();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    JsonNode read = api.get("/v1/responses/" + id).json();
    while (!read.get("status").asText().equals("completed") && System.nanoTime() < deadline) {
      AgentSetup.sleep(50);
      read = api.get("/v1/responses/" + id).json();
    }
    assertThat(read.at("/output/0/content/0/text").asText()).isEqualTo("Background done.");
  }

  @Test
  void a_client_that_sends_the_whole_history_answers_the_run_waiting_for_its_function_calls() {
    setup.agent(List.of(), Map.of("name", "resp-history"));
    fake.enqueue(toolCall("lookup", "{\"sku\":\"A1\"}"), text("A1 is in stock."));
    Map<String, Object> tool = Map.of("type", "function", "name", "lookup", "parameters",
        Map.of("type", "object", "properties", Map.of("sku", Map.of("type", "string"))));
    JsonNode asked = api.post("/v1/responses", Map.of("model", "resp-history", "input", "Is A1 in stock?",
        "tools", List.of(tool))).json();
    JsonNode call = asked.at("/output/0");
    assertThat(call.get("type").asText()).isEqualTo("function_call");

    // As a client keeping its own history sends it: no previous_response_id, the call, its output.
    Http.Response answered = api.post("/v1/responses", Map.of("model", "resp-history", "tools", List.of(tool),
        "input", List.of(
            Map.of("role", "user", "content", "Is A1 in stock?"),
            Map.of("type", "function_call", "call_id", call.get("call_id").asText(), "name", "lookup",
                "arguments", call.get("arguments").asText()),
            Map.of("type", "function_call_output", "call_id", call.get("call_id").asText(), "output", "{\"qty\": 3}"))));
    assertThat(answered.status()).as(answered.toString()).isEqualTo(200);
    assertThat(answered.json().get("run_id").asText()).isEqualTo(asked.get("run_id").asText());
    assertThat(answered.json().get("previous_response_id").asText()).isEqualTo(asked.get("id").asText());
    assertThat(answered.json().at("/output/0/content/0/text").asText()).isEqualTo("A1 is in stock.");
    assertThat(fake.lastRequest().messages().toString()).contains("qty");

    // Outputs no run waits for are refused, and nothing runs.
    int before = fake.requests().size();
    Http.Response stray = api.post("/v1/responses", Map.of("model", "resp-history", "input", List.of(
        Map.of("type", "function_call", "call_id", "call_nope", "name", "lookup", "arguments", "{}"),
        Map.of("type", "function_call_output", "call_id", "call_nope", "output", "x"))));
    assertThat(stray.status()).as(stray.toString()).isEqualTo(400);
    assertThat(stray.json().at("/error/message").asText()).contains("previous_response_id");
    assertThat(fake.requests()).hasSize(before);
  }

  private static List<String> eventTypes(JsonNode events) {
    List<String> types = new ArrayList<>();
    events.forEach(e -> types.add(e.get("type").asText()));
    return types;
  }

  private static List<String> types(JsonNode items) {
    List<String> types = new ArrayList<>();
    items.forEach(i -> types.add(i.get("type").asText()));
    return types;
  }

  private static JsonNode runNodeScript(Map<String, String> env) throws Exception {
    NodeScripts.assumeInstalled("openai");
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("ARYABHATTA_BASE_URL", server.baseUrl());
    all.put("ARYABHATTA_KEY", TestServer.ADMIN_KEY);
    return NodeScripts.runJson("responses-check.mjs", all);
  }


}
