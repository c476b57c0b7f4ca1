package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Retries of idempotent tools: explicit, bounded, each attempt in the journal. */
class ToolRetryTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1",
        "ARYABHATTA_TOOL_MAX_ATTEMPTS", "3"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void an_idempotent_tool_failing_with_503_is_retried_with_the_same_key_and_every_attempt_is_recorded() {
    try (ToolTarget target = ToolTarget.start().failNext(2, 503)) {
      setup.httpTool("stock", "GET", target.url("/stock/{q}"), Map.of("idempotent", true));
      String agent = setup.agent(List.of("stock"), Map.of());
      fake.enqueue(toolCall("stock", "{\"q\":\"tea\"}"), text("In stock."));

      JsonNode run = runAndWait(agent);

      assertThat(run.get("status").asText()).isEqualTo("completed");
      JsonNode step = steps(run).get(1);
      assertThat(step.get("status").asText()).isEqualTo("completed");
      assertThat(step.get("attempts")).extracting(a -> a.get("status_code").asInt()).containsExactly(503, 503, 200);
      assertThat(target.calls()).extracting(ToolTarget.Call::idempotencyKey)
          .containsOnly(step.get("idempotency_key").asText()).hasSize(3);
    }
  }

  @Test
  void retries_stop_at_the_configured_bound_and_the_model_is_told_the_outcome_is_unknown() {
    try (ToolTarget target = ToolTarget.start().failNext(5, 502)) {
      setup.httpTool("flaky", "GET", target.url("/flaky/{q}"), Map.of("idempotent", true));
      String agent = setup.agent(List.of("flaky"), Map.of());
      fake.enqueue(toolCall("flaky", "{\"q\":\"x\"}"), text("The service is down."));

      JsonNode run = runAndWait(agent);

      // A 502 comes from a gateway: the lookup may have been served. It is idempotent, so the run
      // goes on, and neither the journal nor the model is told it failed.
      assertThat(run.get("status").asText()).isEqualTo("completed");
      JsonNode step = steps(run).get(1);
      assertThat(step.get("status").asText()).isEqualTo("unknown_outcome");
      assertThat(step.get("attempts")).hasSize(3);
      assertThat(target.calls()).hasSize(3);
      assertThat(fake.lastRequest().lastMessageContent()).startsWith("Outcome unknown").contains("HTTP 502");
    }
  }

  @Test
  void an_idempotent_call_answered_504_then_503_until_its_retries_run_out_has_an_unknown_outcome() {
    try (ToolTarget target = ToolTarget.start().answer(503, "{}").failNext(1, 504)) {
      setup.httpTool("book", "POST", target.url("/book"), Map.of("idempotent", true));
      String agent = setup.agent(List.of("book"), Map.of());
      fake.enqueue(toolCall("book", "{\"q\":\"x\"}"), text("done"));

      JsonNode run = runAndWait(agent);

      // The 504's request may have been booked: the 503s after it do not undo that.
      JsonNode step = steps(run).get(1);
      assertThat(step.get("status").asText()).isEqualTo("unknown_outcome");
      assertThat(step.get("attempts")).extracting(a -> a.get("status_code").asInt()).containsExactly(504, 503, 503);
      assertThat(fake.lastRequest().lastMessageContent()).startsWith("Outcome unknown");
    }
  }

  @Test
  void a_tool_that_is_not_idempotent_or_fails_for_good_is_never_retried() {
    try (ToolTarget payments = ToolTarget.start().failNext(1, 503);
        ToolTarget lookups = ToolTarget.start().failNext(1, 404)) {
      setup.httpTool("pay", "POST", payments.url("/pay"), Map.of("idempotent", false));
      setup.httpTool("find", "GET", lookups.url("/find/{q}"), Map.of("idempotent", true));
      String agent = setup.agent(List.of("pay", "find"), Map.of());
      fake.enqueue(toolCall("pay", "{\"q\":\"1\"}"), toolCall("find", "{\"q\":\"2\"}"), text("Both failed."));

      JsonNode run = runAndWait(agent);

      assertThat(run.get("status").asText()).isEqualTo("completed");
      assertThat(payments.calls()).hasSize(1);
      assertThat(lookups.calls()).hasSize(1);
      assertThat(steps(run).get(1).get("attempts")).hasSize(1);
      assertThat(steps(run).get(3).get("attempts")).hasSize(1);
    }
  }

  @Test
  void the_engine_audits_the_run_state_changes_it_makes() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("Hi."));

    JsonNode run = runAndWait(agent);

    JsonNode entries = api.get("/api/audit?resource_id=" + run.get("id").asText()).json().get("data");
    assertThat(entries).extracting(e -> e.get("actor").asText() + " " + e.get("action").asText())
        .contains("engine run.running", "engine run.completed");
  }

  private static JsonNode runAndWait(String agentId) {
    var r = api.post("/api/agents/" + agentId + "/runs?wait=true", Map.of("input", "go"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  private static JsonNode steps(JsonNode run) {
    return api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
  }
}
