package io.aryabhatta.callbacks;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static io.aryabhatta.testing.ProblemAssert.fields;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import io.aryabhatta.triggers.WebhookSignature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every way a run starts can give it a callback_url: webhook and schedule triggers, forks, the
 * OpenAI-compatible endpoints. The receiver gets the ended run, signed; a blocked URL is refused
 * on the field the client sent it in, and nothing starts.
 */
class CallbackRunSourcesTest {
  static final String BLOCKED = "http://10.1.2.3/hook";
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  static String agent;
  static String agentName;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> text("Done."));
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1",
        "ARYABHATTA_CALLBACK_MAX_ATTEMPTS", "3"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
    agentName = "sources-" + System.nanoTime() % 100000;
    agent = setup.agent(List.of(), Map.of("name", agentName));
    assertThat(api.post("/api/callback_secret", Map.of()).status()).isEqualTo(201);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void each_run_of_a_webhook_trigger_with_a_callback_url_calls_it_back_with_the_ended_run() throws IOException {
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response created = api.post("/api/triggers", Map.of("agent_id", agent, "kind", "webhook",
          "input_template", "Order {{payload.id}}", "callback_url", target.url("/orders")));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);
      assertThat(created.json().get("callback_url").asText()).isEqualTo(target.url("/orders"));
      String trigger = created.json().get("id").asText();
      String secret = created.json().get("secret").asText();

      String first = deliver(trigger, secret, "{\"id\": \"A-1\"}");
      String second = deliver(trigger, secret, "{\"id\": \"A-2\"}");

      for (String runId : List.of(first, second)) {
        setup.awaitCallback(runId, "delivered");
        assertThat(api.get("/api/runs/" + runId).json().get("callback_url").asText()).isEqualTo(target.url("/orders"));
      }
      assertThat(target.calls()).hasSize(2);
      List<String> bodies = target.calls().stream().map(c -> read(c.body()).get("id").asText()).toList();
      assertThat(bodies).containsExactlyInAnyOrder(first, second);
      JsonNode body = read(target.calls().getFirst().body());
      assertThat(body.get("trigger_id").asText()).isEqualTo(trigger);
      assertThat(body.get("status").asText()).isEqualTo("completed");
      assertThat(target.calls().toString()).doesNotContain(secret);
    }
  }

  @Test
  void each_tick_of_a_schedule_with_a_callback_url_calls_it_back() {
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response created = api.post("/api/triggers", Map.of("agent_id", agent, "kind", "schedule",
          "cron", "* * * * * *", "input_template", "Tick {{payload.scheduled_at}}",
          "callback_url", target.url("/ticks")));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);
      String trigger = created.json().get("id").asText();

      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (target.calls().isEmpty() && System.nanoTime() < deadline) {
        AgentSetup.sleep(100);
      }
      assertThat(api.post("/api/triggers/" + trigger + "/pause", Map.of()).status()).isEqualTo(200);

      assertThat(target.calls()).isNotEmpty();
      JsonNode body = read(target.calls().getFirst().body());
      assertThat(body.get("trigger_id").asText()).isEqualTo(trigger);
      assertThat(body.get("callback_url").asText()).isEqualTo(target.url("/ticks"));
      assertThat(setup.awaitCallback(body.get("id").asText(), "delivered").get("url").asText())
          .isEqualTo(target.url("/ticks"));
    }
  }

  @Test
  void a_trigger_with_a_blocked_callback_url_is_refused_on_that_field_and_not_created() {
    int before = api.get("/api/triggers?limit=200").json().get("data").size();

    JsonNode webhook = assertProblem(api.post("/api/triggers", Map.of("agent_id", agent, "kind", "webhook",
        "input_template", "x", "callback_url", BLOCKED)), 422);
    JsonNode schedule = assertProblem(api.post("/api/triggers", Map.of("agent_id", agent, "kind", "schedule",
        "cron", "0 9 * * *", "input_template", "x", "callback_url", "ftp://example.com/")), 422);

    assertThat(fields(webhook)).containsExactly("callback_url");
    assertThat(fields(schedule)).containsExactly("callback_url");
    assertThat(api.get("/api/triggers?limit=200").json().get("data")).hasSize(before);
  }

  @Test
  void a_fork_given_a_callback_url_calls_it_back_and_the_original_is_not_called_again() {
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response original = api.post("/api/agents/" + agent + "/runs?wait=true",
          Map.of("input", "Hi", "callback_url", target.url("/original")));
      String originalId = original.json().get("id").asText();
      setup.awaitCallback(originalId, "delivered");

      Http.Response fork = api.post("/api/runs/" + originalId + "/fork",
          Map.of("from_step", 0, "callback_url", target.url("/fork")));
      assertThat(fork.status()).as(fork.toString()).isEqualTo(201);
      String forkId = fork.json().get("id").asText();
      assertThat(fork.json().get("callback_url").asText()).isEqualTo(target.url("/fork"));

      setup.awaitCallback(forkId, "delivered");
      assertThat(target.calls()).extracting(ToolTarget.Call::path).containsExactly("/original", "/fork");
      assertThat(read(target.calls().getLast().body()).get("id").asText()).isEqualTo(forkId);

      Http.Response uncalled = api.post("/api/runs/" + originalId + "/fork", Map.of("from_step", 0));
      assertThat(uncalled.json().get("callback_url").isNull()).isTrue();
      JsonNode refused = assertProblem(api.post("/api/runs/" + originalId + "/fork",
          Map.of("from_step", 0, "callback_url", BLOCKED)), 422);
      assertThat(fields(refused)).containsExactly("callback_url");
    }
  }

  @Test
  void a_chat_completion_with_metadata_callback_url_calls_it_back() {
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response completion = api.post("/v1/chat/completions", Map.of("model", agentName,
          "messages", List.of(Map.of("role", "user", "content", "Hi")),
          "metadata", Map.of("callback_url", target.url("/chat"), "team", "support")));
      assertThat(completion.status()).as(completion.toString()).isEqualTo(200);
      String runId = completion.json().get("id").asText().substring("chatcmpl-".length());

      setup.awaitCallback(runId, "delivered");
      JsonNode body = read(target.calls().getFirst().body());
      assertThat(body.get("id").asText()).isEqualTo(runId);
      assertThat(body.get("output").asText()).isEqualTo("Done.");
    }
  }

  @Test
  void a_background_response_with_metadata_callback_url_calls_it_back_and_so_does_its_continuation() {
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response first = api.post("/v1/responses", Map.of("model", agentName, "input", "Hi",
          "background", true, "metadata", Map.of("callback_url", target.url("/first"))));
      assertThat(first.status()).as(first.toString()).isEqualTo(200);
      String firstRun = first.json().get("run_id").asText();
      setup.awaitCallback(firstRun, "delivered");

      Http.Response next = api.post("/v1/responses", Map.of("model", agentName, "input", "And then?",
          "previous_response_id", first.json().get("id").asText(),
          "metadata", Map.of("callback_url", target.url("/next"))));
      assertThat(next.status()).as(next.toString()).isEqualTo(200);
      setup.awaitCallback(next.json().get("run_id").asText(), "delivered");

      assertThat(target.calls()).extracting(ToolTarget.Call::path).containsExactly("/first", "/next");
    }
  }

  @Test
  void an_answer_to_a_waiting_response_cannot_give_its_run_another_callback() {
    fake.enqueue(toolCall("lookup", "{\"sku\": \"A1\"}"));
    Map<String, Object> tool = Map.of("type", "function", "name", "lookup",
        "parameters", Map.of("type", "object", "properties", Map.of("sku", Map.of("type", "string"))));
    JsonNode asked = api.post("/v1/responses", Map.of("model", agentName, "input", "Is A1 in stock?",
        "tools", List.of(tool))).json();
    String callId = asked.at("/output/0/call_id").asText();

    Http.Response refused = api.post("/v1/responses", Map.of("model", agentName, "tools", List.of(tool),
        "previous_response_id", asked.get("id").asText(),
        "metadata", Map.of("callback_url", "https://hooks.example.com/x"),
        "input", List.of(Map.of("type", "function_call_output", "call_id", callId, "output", "3"))));

    assertOpenAiError(refused, "metadata.callback_url");
    assertThat(api.get("/api/runs/" + asked.get("run_id").asText()).json().get("status").asText())
        .isEqualTo("requires_action");
  }

  @Test
  void a_blocked_or_malformed_metadata_callback_url_is_refused_on_that_field_and_nothing_runs() {
    int requestsBefore = fake.requests().size();
    List<Map<String, Object>> metadata = List.of(Map.of("callback_url", BLOCKED),
        Map.of("callback_url", "http://169.254.169.254/latest"), Map.of("callback_url", 42));
    for (Map<String, Object> m : metadata) {
      assertOpenAiError(api.post("/v1/chat/completions", Map.of("model", agentName,
          "messages", List.of(Map.of("role", "user", "content", "Hi")), "metadata", m)), "metadata.callback_url");
      assertOpenAiError(api.post("/v1/responses", Map.of("model", agentName, "input", "Hi", "metadata", m)),
          "metadata.callback_url");
    }
    assertOpenAiError(api.post("/v1/responses", Map.of("model", agentName, "input", "Hi", "metadata", "x")),
        "metadata");
    assertThat(fake.requests()).hasSize(requestsBefore);
  }

  /** The /v1 routes answer in OpenAI's error format: a 400 naming the parameter. */
  private static void assertOpenAiError(Http.Response response, String param) {
    assertThat(response.status()).as(response.toString()).isEqualTo(400);
    assertThat(response.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(response.json().at("/error/param").asText()).as(response.toString()).isEqualTo(param);
  }

  private static String deliver(String trigger, String secret, String body) {
    long now = Instant.now().getEpochSecond();
    Http.Response accepted = server.anonymous().send("POST", "/hooks/" + trigger, body, Map.of(
        "Content-Type", "application/json", "X-Aryabhatta-Timestamp", Long.toString(now),
        "X-Aryabhatta-Signature", WebhookSignature.sign(secret, now, body.getBytes(StandardCharsets.UTF_8))));
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    return accepted.json().get("run_id").asText();
  }


  private static JsonNode read(String json) {
    try {
      return Http.JSON.readTree(json);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
