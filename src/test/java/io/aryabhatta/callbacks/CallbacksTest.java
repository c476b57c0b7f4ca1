package io.aryabhatta.callbacks;

import static io.aryabhatta.testing.FakeModelServer.error;
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
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A run's callback_url is called once the run ends, signed, retried with backoff until a 2xx, bounded. */
class CallbacksTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  static String agent;
  static String secret;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1",
        "ARYABHATTA_CALLBACK_MAX_ATTEMPTS", "3"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
    agent = setup.agent(List.of(), Map.of());
    Http.Response rotated = api.post("/api/callback_secret", Map.of());
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(201);
    secret = rotated.json().get("secret").asText();
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void a_target_failing_twice_gets_the_ended_run_on_the_third_attempt_with_one_delivery_id_and_a_valid_signature() {
    try (ToolTarget target = ToolTarget.start()) {
      target.failNext(2, 500);
      fake.enqueue(text("Done."));

      String runId = startRun(target.url("/hooks/run-ended"));
      JsonNode delivery = setup.awaitCallback(runId, "delivered");

      JsonNode run = api.get("/api/runs/" + runId).json();
      assertThat(run.get("status").asText()).isEqualTo("completed");
      assertThat(run.get("callback_url").asText()).isEqualTo(target.url("/hooks/run-ended"));
      assertThat(delivery.get("attempt_count").asInt()).isEqualTo(3);
      assertThat(delivery.get("attempts")).extracting(a -> a.get("status_code").asInt()).containsExactly(500, 500, 200);
      assertThat(delivery.get("last_status_code").asInt()).isEqualTo(200);
      assertThat(delivery.get("delivered_at").isNull()).isFalse();
      assertThat(delivery.get("next_attempt_at").isNull()).isTrue();

      List<ToolTarget.Call> calls = target.calls();
      assertThat(calls).hasSize(3);
      assertThat(calls).extracting(ToolTarget.Call::method).containsOnly("POST");
      assertThat(calls).extracting(c -> c.header("X-Aryabhatta-Delivery")).containsOnly(delivery.get("id").asText());
      ToolTarget.Call last = calls.getLast();
      assertThat(Http.JSON.readTree(last.body())).isEqualTo(run);
      assertThat(last.header("Content-Type")).startsWith("application/json");
      for (ToolTarget.Call call : calls) {
        String timestamp = call.header("X-Aryabhatta-Timestamp");
        assertThat(call.header("X-Aryabhatta-Signature")).isEqualTo(expectedSignature(timestamp, call.body()));
      }
      // The retries waited: 1 s after the first failure, 2 s after the second.
      long first = java.time.Instant.parse(delivery.at("/attempts/0/at").asText()).toEpochMilli();
      long third = java.time.Instant.parse(delivery.at("/attempts/2/at").asText()).toEpochMilli();
      assertThat(third - first).isGreaterThanOrEqualTo(2_900);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void a_target_that_always_fails_is_given_up_after_the_bounded_attempts() {
    try (ToolTarget target = ToolTarget.start()) {
      target.answer(503, "{\"down\":true}");
      fake.enqueue(text("Done."));

      String runId = startRun(target.url("/down"));
      JsonNode delivery = setup.awaitCallback(runId, "failed");

      assertThat(delivery.get("attempt_count").asInt()).isEqualTo(3);
      assertThat(delivery.get("attempts")).extracting(a -> a.get("status_code").asInt()).containsExactly(503, 503, 503);
      assertThat(delivery.get("delivered_at").isNull()).isTrue();
      assertThat(delivery.get("next_attempt_at").isNull()).isTrue();
      AgentSetup.sleep(1_500);
      assertThat(target.calls()).hasSize(3);
    }
  }

  @Test
  void an_unreachable_target_records_the_error_of_each_attempt() {
    String url;
    try (ToolTarget closed = ToolTarget.start()) {
      url = closed.url("/gone");
    }
    fake.enqueue(text("Done."));

    JsonNode delivery = setup.awaitCallback(startRun(url), "failed");

    assertThat(delivery.get("attempts")).allSatisfy(a -> {
      assertThat(a.get("status_code").isNull()).isTrue();
      assertThat(a.get("error").asText()).startsWith("the connection failed");
    });
    assertThat(delivery.get("last_error").asText()).startsWith("the connection failed");
  }

  @Test
  void a_redirect_is_not_followed_and_counts_as_a_failed_attempt() {
    try (ToolTarget target = ToolTarget.start()) {
      target.answer(302, "{}");
      fake.enqueue(text("Done."));

      JsonNode delivery = setup.awaitCallback(startRun(target.url("/moved")), "failed");

      assertThat(delivery.get("attempts")).allSatisfy(a -> {
        assertThat(a.get("status_code").asInt()).isEqualTo(302);
        assertThat(a.get("error").asText()).isEqualTo("redirects are not followed");
      });
      assertThat(target.calls()).hasSize(3);
    }
  }

  @Test
  void a_failed_run_calls_back_too() {
    try (ToolTarget target = ToolTarget.start()) {
      fake.enqueue(error(400));

      String runId = startRun(target.url("/failed"));
      setup.awaitCallback(runId, "delivered");

      JsonNode body = Http.JSON.readTree(target.calls().getFirst().body());
      assertThat(body.get("status").asText()).isEqualTo("failed");
      assertThat(body.get("id").asText()).isEqualTo(runId);
      assertThat(body.get("error").isNull()).isFalse();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void a_run_cancelled_while_it_waits_for_a_person_calls_back_once() {
    setup.clientTool("ask_the_app");
    String waitingAgent = setup.agent(List.of("ask_the_app"), Map.of());
    try (ToolTarget target = ToolTarget.start()) {
      fake.enqueue(toolCall("ask_the_app", "{\"question\":\"which?\"}"));
      Http.Response created = api.post("/api/agents/" + waitingAgent + "/runs",
          Map.of("input", "Ask the app.", "callback_url", target.url("/cancelled")));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);
      String runId = created.json().get("id").asText();
      setup.awaitStatus(runId, "requires_action");
      assertProblem(api.get("/api/runs/" + runId + "/callback"), 404);

      assertThat(api.post("/api/runs/" + runId + "/cancel", Map.of()).status()).isEqualTo(200);
      setup.awaitCallback(runId, "delivered");

      assertThat(target.calls()).hasSize(1);
      assertThat(Http.JSON.readTree(target.calls().getFirst().body()).get("status").asText()).isEqualTo("cancelled");
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void a_run_of_a_conversation_takes_a_callback_url_too() {
    try (ToolTarget target = ToolTarget.start()) {
      String conversation = api.post("/api/conversations", Map.of("agent_id", agent)).json().get("id").asText();
      fake.enqueue(text("Hello."));

      Http.Response created = api.post("/api/conversations/" + conversation + "/runs",
          Map.of("input", "Hi", "callback_url", target.url("/conversation")));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);

      setup.awaitCallback(created.json().get("id").asText(), "delivered");
      assertThat(target.calls()).hasSize(1);
    }
  }

  @Test
  void a_blocked_or_non_http_callback_url_is_refused_and_no_run_is_created() {
    for (String url : List.of("http://10.0.0.1/hook", "http://169.254.169.254/latest", "http://metadata.google.internal/",
        "ftp://example.com/hook", "file:///etc/passwd", "not a url", "http://user:pw@example.com/")) {
      String quiet = setup.agent(List.of(), Map.of());
      JsonNode problem = assertProblem(api.post("/api/agents/" + quiet + "/runs",
          Map.of("input", "Hi", "callback_url", url)), 422);
      assertThat(fields(problem)).as(url).containsExactly("callback_url");
      assertThat(api.get("/api/conversations?agent_id=" + quiet).json().get("data")).as(url).isEmpty();
    }
    String conversation = api.post("/api/conversations", Map.of("agent_id", agent)).json().get("id").asText();
    assertProblem(api.post("/api/conversations/" + conversation + "/runs",
        Map.of("input", "Hi", "callback_url", "http://192.168.1.1/")), 422);
    assertThat(api.get("/api/conversations/" + conversation + "/runs").json().get("data")).isEmpty();
  }

  @Test
  void a_run_without_callback_url_has_no_delivery() {
    fake.enqueue(text("Done."));
    Http.Response created = api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "Hi"));
    assertThat(created.json().get("callback_url").isNull()).isTrue();

    JsonNode problem = assertProblem(api.get("/api/runs/" + created.json().get("id").asText() + "/callback"), 404);
    assertThat(problem.get("detail").asText()).contains("no callback_url");
  }

  @Test
  void the_secret_is_shown_only_when_rotated_and_never_audited() {
    Http.Response first = api.post("/api/callback_secret", Map.of());
    Http.Response second = api.post("/api/callback_secret", Map.of());
    assertThat(first.json().get("secret").asText()).startsWith("whsec_");
    assertThat(second.json().get("secret").asText()).isNotEqualTo(first.json().get("secret").asText());
    secret = second.json().get("secret").asText();

    String audit = api.get("/api/audit?action=callback_secret.rotated").text();
    assertThat(audit).contains("callback_secret.rotated");
    assertThat(audit).doesNotContain(first.json().get("secret").asText()).doesNotContain(secret);
  }

  private static String startRun(String callbackUrl) {
    Http.Response created = api.post("/api/agents/" + agent + "/runs",
        Map.of("input", "Hi", "callback_url", callbackUrl));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    return created.json().get("id").asText();
  }


  private static String expectedSignature(String timestamp, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(
          mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
