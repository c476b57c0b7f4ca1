package io.aryabhatta.runs;

import static io.aryabhatta.testing.FakeModelServer.call;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static io.aryabhatta.testing.FakeModelServer.toolCalls;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AgentRunTest {
  static FakeModelServer fake;
  static ToolTarget target;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    target = ToolTarget.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
    target.close();
  }

  private static JsonNode runAndWait(String agentId, String input) {
    var r = api.post("/api/agents/" + agentId + "/runs?wait=true", Map.of("input", input));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  @Test
  void calculator_run_completes_and_the_journal_shows_every_step() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    fake.enqueue(toolCall("calculator", "{\"expression\":\"0.1 + 0.2\"}"), text("It is 0.3."));

    JsonNode run = runAndWait(agent, "What is 0.1 + 0.2?");

    assertThat(run.get("status").asText()).isEqualTo("completed");
    assertThat(run.get("output").asText()).isEqualTo("It is 0.3.");
    assertThat(run.at("/usage/total_tokens").asInt()).isPositive();
    JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
    assertThat(steps).hasSize(3);
    assertThat(steps.get(0).get("type").asText()).isEqualTo("llm_call");
    assertThat(steps.get(1).get("type").asText()).isEqualTo("tool_call");
    assertThat(steps.get(1).get("result").asText()).isEqualTo("0.3");
    assertThat(steps.get(1).get("idempotency_key").asText()).isNotBlank();
    assertThat(steps.get(2).at("/request/messages").toString()).contains("0.3");
    // The run's own counts agree with its journal: two model calls, and their tokens summed.
    assertThat(run.get("steps_count").asInt()).isEqualTo(2);
    assertThat(run.at("/usage/prompt_tokens").asInt())
        .isEqualTo(steps.get(0).at("/usage/prompt_tokens").asInt() + steps.get(2).at("/usage/prompt_tokens").asInt());
    assertThat(run.at("/usage/total_tokens").asInt())
        .isEqualTo(steps.get(0).at("/usage/total_tokens").asInt() + steps.get(2).at("/usage/total_tokens").asInt());
    assertThat(api.get("/api/runs/" + run.get("id").asText()).json().get("usage")).isEqualTo(run.get("usage"));
    JsonNode messages = api.get("/api/conversations/" + run.get("conversation_id").asText() + "/messages").json()
        .get("data");
    assertThat(messages).extracting(m -> m.get("role").asText())
        .containsExactly("user", "assistant", "tool", "assistant");
    assertThat(fake.lastRequest().messages().toString()).contains("\"role\":\"tool\"");
  }

  @Test
  void http_tool_gets_the_idempotency_key_of_its_step() {
    setup.httpTool("lookup_a", "GET", target.url("/orders/{q}"), Map.of());
    String agent = setup.agent(List.of("lookup_a"), Map.of());
    target.answer(200, "{\"order\":\"shipped\"}");
    int before = target.calls().size();
    fake.enqueue(toolCall("lookup_a", "{\"q\":\"A 1/2\"}"), text("Shipped."));

    JsonNode run = runAndWait(agent, "Where is my order?");

    assertThat(run.get("status").asText()).isEqualTo("completed");
    List<ToolTarget.Call> calls = target.calls().subList(before, target.calls().size());
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).path()).isEqualTo("/orders/A%201%2F2");
    JsonNode toolStep = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().at("/data/1");
    assertThat(calls.get(0).idempotencyKey()).isEqualTo(toolStep.get("idempotency_key").asText());
    assertThat(toolStep.get("result").asText()).contains("shipped");
  }

  @Test
  void invalid_arguments_never_reach_the_tool_and_go_back_to_the_model() {
    setup.httpTool("lookup_b", "POST", target.url("/b"), Map.of());
    String agent = setup.agent(List.of("lookup_b"), Map.of());
    int before = target.calls().size();
    fake.enqueue(toolCall("lookup_b", "{\"q\": 42}"), toolCall("nonexistent", "{}"), toolCall("lookup_b", "{not json"),
        text("Sorry."));

    JsonNode run = runAndWait(agent, "Go");

    assertThat(run.get("status").asText()).isEqualTo("completed");
    assertThat(target.calls()).hasSize(before);
    JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
    List<String> errors = new ArrayList<>();
    steps.forEach(s -> {
      if (s.get("type").asText().equals("tool_call")) {
        assertThat(s.get("status").asText()).isEqualTo("failed");
        errors.add(s.get("error").asText());
      }
    });
    assertThat(errors).hasSize(3);
    assertThat(errors.get(0)).contains("invalid arguments");
    assertThat(errors.get(1)).contains("unknown tool 'nonexistent'");
    assertThat(errors.get(2)).contains("not a JSON object");
  }

  @Test
  void client_tool_pauses_the_run_until_the_caller_submits_its_output() {
    setup.clientTool("ask_user");
    String agent = setup.agent(List.of("ask_user"), Map.of());
    fake.enqueue(toolCall("ask_user", "{\"question\":\"Which city?\"}"), text("Weather in Pune is fine."));

    JsonNode run = runAndWait(agent, "Weather?");

    assertThat(run.get("status").asText()).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("submit_tool_outputs");
    String callId = run.at("/required_action/tool_calls/0/id").asText();
    var r = api.post("/api/runs/" + run.get("id").asText() + "/tool_outputs",
        Map.of("tool_outputs", List.of(Map.of("tool_call_id", callId, "output", "Pune"))));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonNode done = setup.awaitSettled(run.get("id").asText());
    assertThat(done.get("status").asText()).isEqualTo("completed");
    assertThat(fake.lastRequest().messages().toString()).contains("Pune");
  }

  @Test
  void approval_accepted_runs_the_tool_and_rejected_tells_the_model_why() {
    setup.httpTool("refund", "POST", target.url("/refund"), Map.of());
    String agent = setup.agent(List.of("refund"), Map.of("tool_approval", "always"));
    int before = target.calls().size();
    fake.enqueue(toolCalls(call("refund", "{\"q\":\"1\"}"), call("refund", "{\"q\":\"2\"}")), text("Done."));

    JsonNode run = runAndWait(agent, "Refund both");
    assertThat(run.get("status").asText()).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("approve_tool_calls");
    assertThat(run.at("/required_action/tool_calls")).hasSize(2);
    String first = run.at("/required_action/tool_calls/0/id").asText();
    String second = run.at("/required_action/tool_calls/1/id").asText();

    var r = api.post("/api/runs/" + run.get("id").asText() + "/approvals", Map.of("decisions", List.of(
        Map.of("tool_call_id", first, "approve", true),
        Map.of("tool_call_id", second, "approve", false, "reason", "over the limit"))));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);

    JsonNode done = setup.awaitSettled(run.get("id").asText());
    assertThat(done.get("status").asText()).isEqualTo("completed");
    assertThat(target.calls()).hasSize(before + 1);
    assertThat(target.calls().get(before).body()).contains("\"q\":\"1\"");
    assertThat(fake.lastRequest().messages().toString()).contains("rejected").contains("over the limit");
  }

  @Test
  void approvals_must_name_the_waiting_calls() {
    setup.httpTool("refund2", "POST", target.url("/refund"), Map.of("requires_approval", true));
    String agent = setup.agent(List.of("refund2"), Map.of("tool_approval", "per_tool"));
    fake.enqueue(toolCall("refund2", "{\"q\":\"1\"}"));
    JsonNode run = runAndWait(agent, "Refund");
    assertThat(run.get("status").asText()).isEqualTo("requires_action");

    var wrong = api.post("/api/runs/" + run.get("id").asText() + "/approvals",
        Map.of("decisions", List.of(Map.of("tool_call_id", "nope", "approve", true))));
    assertThat(wrong.status()).isEqualTo(422);
    var outputs = api.post("/api/runs/" + run.get("id").asText() + "/tool_outputs",
        Map.of("tool_outputs", List.of(Map.of("tool_call_id", "x", "output", "y"))));
    assertThat(outputs.status()).isEqualTo(409);
    assertThat(api.post("/api/runs/" + run.get("id").asText() + "/cancel", Map.of()).json().get("status").asText())
        .isEqualTo("cancelled");
    JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
    assertThat(steps.get(1).get("status").asText()).isEqualTo("cancelled");
  }

  @Test
  void cancel_during_a_tool_lets_it_finish_and_starts_nothing_new() {
    setup.httpTool("slow", "POST", target.url("/slow"), Map.of());
    String agent = setup.agent(List.of("slow"), Map.of());
    try (ToolTarget slow = ToolTarget.start().delay(Duration.ofMillis(1500))) {
      api.patch("/api/tools/" + toolId("slow"), Map.of("http",
          Map.of("method", "POST", "url", slow.url("/slow"), "timeout_ms", 10000)));
      int requestsBefore = fake.requests().size();
      fake.enqueue(toolCall("slow", "{\"q\":\"x\"}"));
      String runId = api.post("/api/agents/" + agent + "/runs", Map.of("input", "go")).json().get("id").asText();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (slow.calls().isEmpty() && System.nanoTime() < deadline) {
        AgentSetup.sleep(20);
      }
      assertThat(slow.calls()).hasSize(1);
      api.post("/api/runs/" + runId + "/cancel", Map.of());

      JsonNode run = setup.awaitSettled(runId);
      assertThat(run.get("status").asText()).isEqualTo("cancelled");
      assertThat(fake.requests().size()).isEqualTo(requestsBefore + 1);
      JsonNode steps = api.get("/api/runs/" + runId + "/steps").json().get("data");
      assertThat(steps).hasSize(2);
      assertThat(steps.get(1).get("status").asText()).isEqualTo("completed");
    }
  }

  /** Waits (up to 10 s) until the run's events hold one of {@code type}. */
  private static void awaitEvent(String runId, String type) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!api.get("/api/runs/" + runId + "/events?format=json").text().contains("\"" + type + "\"")
        && System.nanoTime() < deadline) {
      AgentSetup.sleep(10);
    }
  }

  @Test
  void the_first_words_of_a_slowly_streamed_answer_are_in_the_runs_events_before_the_answer_ends() {
    String agent = setup.agent(List.of(), Map.of());
    String answer = "One, two, three, four, five, six, seven, eight.";
    fake.enqueue(text(answer).withChunkDelay(Duration.ofMillis(150)));
    String runId = api.post("/api/agents/" + agent + "/runs", Map.of("input", "count")).json().get("id").asText();

    JsonNode firstDelta = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (firstDelta == null && System.nanoTime() < deadline) {
      for (JsonNode event : api.get("/api/runs/" + runId + "/events?format=json").json().get("data")) {
        if (event.get("type").asText().equals("message.delta")) {
          firstDelta = event;
          break;
        }
      }
      AgentSetup.sleep(10);
    }
    String statusThen = api.get("/api/runs/" + runId).json().get("status").asText();
    JsonNode run = setup.awaitSettled(runId);

    assertThat(firstDelta).as("a delta while the model was writing").isNotNull();
    assertThat(answer).startsWith(firstDelta.at("/data/text").asText());
    assertThat(statusThen).as("the answer was still being written").isEqualTo("running");
    assertThat(run.get("status").asText()).isEqualTo("completed");
    StringBuilder deltas = new StringBuilder();
    List<String> types = new ArrayList<>();
    for (JsonNode event : api.get("/api/runs/" + runId + "/events?format=json").json().get("data")) {
      types.add(event.get("type").asText());
      if (event.get("type").asText().equals("message.delta")) {
        deltas.append(event.at("/data/text").asText());
      }
    }
    assertThat(deltas.toString()).isEqualTo(answer);
    assertThat(types.lastIndexOf("message.delta")).isLessThan(types.indexOf("llm_call.completed"));
  }

  @Test
  void cancel_during_a_streamed_answer_ends_the_run_with_the_text_written_so_far() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("This answer is long and slow, ".repeat(6)).withChunkDelay(Duration.ofMillis(200)));
    String runId = api.post("/api/agents/" + agent + "/runs", Map.of("input", "go")).json().get("id").asText();
    awaitEvent(runId, "message.delta");
    long cancelledAt = System.nanoTime();
    api.post("/api/runs/" + runId + "/cancel", Map.of());

    JsonNode run = setup.awaitSettled(runId);

    assertThat(run.get("status").asText()).isEqualTo("cancelled");
    assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(5));
    List<String> types = new ArrayList<>();
    api.get("/api/runs/" + runId + "/events?format=json").json().get("data")
        .forEach(e -> types.add(e.get("type").asText()));
    assertThat(types).contains("message.delta");
    assertThat(types.get(types.size() - 1)).isEqualTo("run.cancelled");
  }

  @Test
  void cancel_during_a_model_call_interrupts_it() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("too late").withDelay(Duration.ofSeconds(20)));
    String runId = api.post("/api/agents/" + agent + "/runs", Map.of("input", "go")).json().get("id").asText();
    awaitEvent(runId, "llm_call.started");
    long cancelledAt = System.nanoTime();
    api.post("/api/runs/" + runId + "/cancel", Map.of());

    JsonNode run = setup.awaitSettled(runId);

    assertThat(run.get("status").asText()).isEqualTo("cancelled");
    assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(5));
    JsonNode steps = api.get("/api/runs/" + runId + "/steps").json().get("data");
    assertThat(steps.get(0).get("status").asText()).isEqualTo("cancelled");
  }

  @Test
  void a_new_run_starts_with_its_creation_and_a_cancel_right_after_it_does_not_wait_for_the_model() {
    try (TestServer own = TestServer.start(); FakeModelServer model = FakeModelServer.start()) {
      AgentSetup s = new AgentSetup(own.admin, model);
      String agent = s.agent(List.of("calculator"), Map.of());
      model.enqueue(text("too late").withDelay(Duration.ofSeconds(20)));

      JsonNode created = own.admin.post("/api/agents/" + agent + "/runs", Map.of("input", "go")).json();
      long cancelledAt = System.nanoTime();
      own.admin.post("/api/runs/" + created.get("id").asText() + "/cancel", Map.of());
      JsonNode run = s.awaitSettled(created.get("id").asText());

      // The node had a free slot: its creation began the run: it started it and opened its first model call.
      assertThat(created.get("status").asText()).isEqualTo("running");
      assertThat(created.get("started_at").isNull()).isFalse();
      assertThat(run.get("status").asText()).isEqualTo("cancelled");
      assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(5));
      String runPath = "/api/runs/" + run.get("id").asText();
      JsonNode steps = own.admin.get(runPath + "/steps").json().get("data");
      assertThat(steps).hasSize(1);
      assertThat(steps.get(0).get("type").asText()).isEqualTo("llm_call");
      assertThat(steps.get(0).get("status").asText()).isEqualTo("cancelled");
      assertThat(steps.get(0).at("/request/tools/0/function/name").asText()).isEqualTo("calculator");
      assertThat(own.admin.get(runPath + "/events?format=json").json().get("data"))
          .extracting(e -> e.get("type").asText())
          .containsExactly("run.created", "run.running", "llm_call.started", "run.cancelled");
    }
  }

  @Test
  void max_steps_fails_the_run_with_a_clear_error() {
    String agent = setup.agent(List.of("calculator"), Map.of("max_steps", 2));
    fake.enqueue(toolCall("calculator", "{\"expression\":\"1+1\"}"), toolCall("calculator", "{\"expression\":\"2+2\"}"));

    JsonNode run = runAndWait(agent, "Loop");

    assertThat(run.get("status").asText()).isEqualTo("failed");
    assertThat(run.at("/error/code").asText()).isEqualTo("max_steps_reached");
    assertThat(run.at("/error/message").asText()).contains("max_steps");
    JsonNode messages = api.get("/api/conversations/" + run.get("conversation_id").asText() + "/messages").json()
        .get("data");
    assertThat(messages.get(messages.size() - 1).get("role").asText()).isEqualTo("tool");
  }

  @Test
  void a_provider_without_its_key_fails_the_run_with_a_clear_error_before_any_call() {
    String agent = setup.agent(List.of("calculator"), Map.of("model", Map.of("provider", "hf", "name", "some/model")));
    int callsBefore = fake.requests().size();

    JsonNode first = runAndWait(agent, "Hello");
    // A run on the existing conversation is opened by its loop, not by its creation: the same record.
    var again = api.post("/api/conversations/" + first.get("conversation_id").asText() + "/runs?wait=true",
        Map.of("input", "Hello again"));

    for (JsonNode run : List.of(first, again.json())) {
      assertThat(run.get("status").asText()).isEqualTo("failed");
      assertThat(run.at("/error/code").asText()).isEqualTo("provider_not_configured");
      assertThat(run.at("/error/message").asText()).contains("HUGGING_FACE_AUTH_TOKEN");
      JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
      assertThat(steps).hasSize(1);
      assertThat(steps.get(0).get("type").asText()).isEqualTo("llm_call");
      assertThat(steps.get(0).get("status").asText()).isEqualTo("failed");
      assertThat(steps.get(0).get("error").asText()).contains("HUGGING_FACE_AUTH_TOKEN");
      assertThat(steps.get(0).get("attempts")).isEmpty();
      assertThat(steps.get(0).at("/request/model").asText()).isEqualTo("some/model");
    }
    assertThat(fake.requests()).hasSize(callsBefore);
  }

  @Test
  void a_version_whose_tool_was_deleted_fails_its_run_as_a_configuration_error_before_any_call() {
    String toolId = setup.httpTool("retired_lookup", "GET", target.url("/orders/{q}"), Map.of());
    String agent = setup.agent(List.of("retired_lookup"), Map.of());
    assertThat(api.patch("/api/agents/" + agent, Map.of("tools", List.of())).status()).isEqualTo(200);
    assertThat(api.delete("/api/tools/" + toolId).status()).isEqualTo(204);
    api.post("/api/agents/" + agent + "/evaluation_cases", Map.of("name", "looks up", "input", "Where is A1?",
        "expect", Map.of("output_contains", "shipped")));
    int callsBefore = fake.requests().size();

    JsonNode report = api.post("/api/agents/" + agent + "/evaluations", Map.of("version", 1)).json();

    JsonNode run = api.get("/api/runs/" + report.at("/cases/0/run_id").asText()).json();
    assertThat(run.get("status").asText()).isEqualTo("failed");
    assertThat(run.at("/error/code").asText()).isEqualTo("configuration_error");
    assertThat(run.at("/error/message").asText()).contains("retired_lookup");
    assertThat(api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data")).isEmpty();
    assertThat(fake.requests()).hasSize(callsBefore);
  }

  @Test
  void blocked_address_is_a_tool_error_without_allowlist() {
    try (TestServer strict = TestServer.start(); ToolTarget local = ToolTarget.start();
        FakeModelServer model = FakeModelServer.start()) {
      AgentSetup s = new AgentSetup(strict.admin, model);
      s.httpTool("internal", "GET", local.url("/admin"), Map.of());
      String agent = s.agent(List.of("internal"), Map.of());
      model.enqueue(toolCall("internal", "{\"q\":\"x\"}"), text("Could not."));
      // The model server itself is on loopback: providers are not subject to the HTTP tool guard.
      JsonNode run = strict.admin.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "x")).json();
      assertThat(run.get("status").asText()).isEqualTo("completed");
      JsonNode step = strict.admin.get("/api/runs/" + run.get("id").asText() + "/steps").json().at("/data/1");
      assertThat(step.get("status").asText()).isEqualTo("failed");
      assertThat(local.calls()).isEmpty();
    }
  }

  @Test
  void streaming_mode_sends_deltas_and_ends_with_run_completed() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("Hello there, streaming world!"));

    var r = api.post("/api/agents/" + agent + "/runs?stream=true", Map.of("input", "hi"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/event-stream");
    List<String> types = new ArrayList<>();
    StringBuilder deltas = new StringBuilder();
    for (String block : r.text().split("\n\n")) {
      String type = null;
      String data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) type = line.substring(7);
        if (line.startsWith("data: ")) data = line.substring(6);
      }
      if (type != null) {
        types.add(type);
        if (type.equals("message.delta")) {
          deltas.append(readJson(data).get("text").asText());
        }
      }
    }
    assertThat(types.get(0)).isEqualTo("run.created");
    assertThat(types).contains("run.running", "llm_call.started", "message.delta", "llm_call.completed");
    assertThat(types.get(types.size() - 1)).isEqualTo("run.completed");
    assertThat(deltas.toString()).isEqualTo("Hello there, streaming world!");
  }

  @Test
  void events_resume_after_an_id_as_json_and_as_sse() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("Done"));
    JsonNode run = runAndWait(agent, "hi");
    String id = run.get("id").asText();

    JsonNode all = api.get("/api/runs/" + id + "/events?format=json").json().get("data");
    for (int i = 0; i < all.size(); i++) {
      assertThat(all.get(i).get("id").asLong()).as("event %d of %s", i, all).isEqualTo(i + 1);
    }
    JsonNode later = api.get("/api/runs/" + id + "/events?format=json&after=2").json().get("data");
    assertThat(later.get(0).get("id").asLong()).isEqualTo(3);
    assertThat(later).hasSize(all.size() - 2);

    var beyond = api.get("/api/runs/" + id + "/events?format=json&after=" + Long.MAX_VALUE);
    assertThat(beyond.status()).isEqualTo(200);
    assertThat(beyond.json().get("data")).isEmpty();

    var sse = api.send("GET", "/api/runs/" + id + "/events", null, Map.of("Last-Event-ID", "2",
        "Accept", "text/event-stream"));
    assertThat(sse.text()).doesNotContain("id: 2\n").contains("id: 3\n").contains("event: run.completed");
  }

  @Test
  void a_message_that_with_the_system_prompt_exceeds_the_context_window_is_422_and_starts_nothing() {
    String agent = setup.agent(List.of(), Map.of("context_window", 512));
    int conversationsBefore = api.get("/api/conversations?agent_id=" + agent).json().path("data").size();
    int modelCallsBefore = fake.requests().size();

    var tooLong = api.post("/api/agents/" + agent + "/runs", Map.of("input", "x".repeat(4 * 600)));

    assertThat(tooLong.status()).isEqualTo(422);
    assertThat(tooLong.json().at("/errors/0/field").asText()).isEqualTo("input");
    assertThat(tooLong.json().at("/errors/0/message").asText()).contains("context_window of 512");
    assertThat(api.get("/api/conversations?agent_id=" + agent).json().path("data").size())
        .isEqualTo(conversationsBefore);
    assertThat(fake.requests()).hasSize(modelCallsBefore);
  }

  @Test
  void a_missing_prompt_variable_is_422_and_a_second_active_run_is_409() {
    setup.clientTool("client_x");
    String agent = setup.agent(List.of("client_x"), Map.of("system_prompt", "Customer: {{customer_name}}"));
    var missing = api.post("/api/agents/" + agent + "/runs", Map.of("input", "hi"));
    assertThat(missing.status()).isEqualTo(422);
    assertThat(missing.json().at("/errors/0/field").asText()).isEqualTo("variables.customer_name");
    // An empty value would make the prompt "Customer: ": refused the same way, for a run and for
    // a conversation, and nothing is created.
    int conversationsBefore = api.get("/api/conversations?agent_id=" + agent).json().path("data").size();
    for (String blank : List.of("", "   ")) {
      var empty = api.post("/api/agents/" + agent + "/runs",
          Map.of("input", "hi", "variables", Map.of("customer_name", blank)));
      assertThat(empty.status()).isEqualTo(422);
      assertThat(empty.json().at("/errors/0/field").asText()).isEqualTo("variables.customer_name");
      assertThat(empty.json().at("/errors/0/message").asText()).contains("must not be empty");
      var conversation = api.post("/api/conversations",
          Map.of("agent_id", agent, "variables", Map.of("customer_name", blank)));
      assertThat(conversation.status()).isEqualTo(422);
    }
    assertThat(api.get("/api/conversations?agent_id=" + agent).json().path("data").size())
        .isEqualTo(conversationsBefore);

    fake.enqueue(toolCall("client_x", "{}"));
    JsonNode run = api.post("/api/agents/" + agent + "/runs?wait=true",
        Map.of("input", "hi", "variables", Map.of("customer_name", "Asha"))).json();
    assertThat(run.get("status").asText()).isEqualTo("requires_action");
    assertThat(fake.lastRequest().messages().get(0).get("content").asText()).isEqualTo("Customer: Asha");
    var second = api.post("/api/conversations/" + run.get("conversation_id").asText() + "/runs",
        Map.of("input", "again"));
    assertThat(second.status()).isEqualTo(409);
  }

  @Test
  void concurrent_runs_on_one_conversation_get_one_201_and_409s_never_500() throws Exception {
    setup.clientTool("client_y");
    String agent = setup.agent(List.of("client_y"), Map.of());
    String conversation = api.post("/api/conversations", Map.of("agent_id", agent)).json().get("id").asText();
    fake.respondWith(request -> toolCall("client_y", "{}"));
    List<Integer> statuses = java.util.Collections.synchronizedList(new ArrayList<>());
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 12; i++) {
        pool.submit(() -> statuses.add(api.post("/api/conversations/" + conversation + "/runs",
            Map.of("input", "hi")).status()));
      }
    }
    assertThat(statuses).hasSize(12).containsOnly(201, 409);
    assertThat(statuses).filteredOn(s -> s == 201).hasSize(1);
    JsonNode runs = api.get("/api/conversations/" + conversation + "/runs").json().get("data");
    assertThat(runs).hasSize(1);
    String runId = runs.get(0).get("id").asText();
    assertThat(setup.awaitSettled(runId).get("status").asText()).isEqualTo("requires_action");
    fake.respondWith(null);
    assertThat(api.post("/api/runs/" + runId + "/cancel", Map.of()).status()).isEqualTo(200);
  }

  @Test
  void null_list_elements_are_422_and_a_deleted_agent_starts_nothing() {
    var r = api.post("/api/runs/nope/approvals", "{\"decisions\": [null]}");
    assertThat(r.status()).isEqualTo(422);
    String agent = setup.agent(List.of(), Map.of());
    assertThat(api.delete("/api/agents/" + agent).status()).isEqualTo(204);
    assertThat(api.post("/api/agents/" + agent + "/runs", Map.of("input", "hi")).status()).isEqualTo(404);
    assertThat(api.post("/api/conversations", Map.of("agent_id", agent)).status()).isEqualTo(404);
  }

  private static JsonNode readJson(String text) {
    try {
      return Http.JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(text, e);
    }
  }

  private static String toolId(String name) {
    for (JsonNode t : api.get("/api/tools?limit=200").json().get("data")) {
      if (t.get("name").asText().equals(name)) {
        return t.get("id").asText();
      }
    }
    throw new AssertionError("no tool " + name);
  }
}
