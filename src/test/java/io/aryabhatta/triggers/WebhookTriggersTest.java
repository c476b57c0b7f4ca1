package io.aryabhatta.triggers;

import static io.aryabhatta.testing.FakeModelServer.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Webhook triggers over the real API: signature, replay window, delivery dedupe, templates, workspaces. */
class WebhookTriggersTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  static String agentId;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> text("done"));
    server = TestServer.start();
    api = server.admin;
    setup = new AgentSetup(api, fake);
    agentId = setup.agent(List.of(), Map.of("system_prompt", "You help {{customer}}."));
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  record Hook(String id, String secret) {}

  static Hook webhook(Map<String, Object> extra) {
    Map<String, Object> body = new HashMap<>(Map.of("agent_id", agentId, "kind", "webhook",
        "input_template", "Order {{payload.order.id}} by {{payload.order.items.0.name}}",
        "variables_template", Map.of("customer", "{{payload.customer.name}}")));
    body.putAll(extra);
    Http.Response created = api.post("/api/triggers", body);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    JsonNode json = created.json();
    assertThat(json.get("hook_path").asText()).isEqualTo("/hooks/" + json.get("id").asText());
    return new Hook(json.get("id").asText(), json.get("secret").asText());
  }

  static Http.Response deliver(Hook hook, String body, long timestamp, String signature, String deliveryId) {
    Map<String, String> headers = new HashMap<>(Map.of("Content-Type", "application/json",
        "X-Aryabhatta-Timestamp", Long.toString(timestamp)));
    if (signature != null) {
      headers.put("X-Aryabhatta-Signature", signature);
    }
    if (deliveryId != null) {
      headers.put("X-Aryabhatta-Delivery", deliveryId);
    }
    return server.anonymous().send("POST", "/hooks/" + hook.id(), body, headers);
  }

  static Http.Response deliverSigned(Hook hook, String body, String deliveryId) {
    long now = Instant.now().getEpochSecond();
    return deliver(hook, body, now, sign(hook.secret(), now, body), deliveryId);
  }

  static String sign(String secret, long timestamp, String body) {
    return WebhookSignature.sign(secret, timestamp, body.getBytes(StandardCharsets.UTF_8));
  }

  static final String ORDER = """
      {"order": {"id": "A-17", "items": [{"name": "tea"}]}, "customer": {"name": "Ada"}}""";

  @Test
  void a_signed_delivery_starts_a_run_with_the_templated_input_and_variables() {
    Hook hook = webhook(Map.of());

    Http.Response accepted = deliverSigned(hook, ORDER, null);

    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    String runId = accepted.json().get("run_id").asText();
    assertThat(accepted.json().get("trigger_id").asText()).isEqualTo(hook.id());
    JsonNode run = setup.awaitSettled(runId);
    assertThat(run.get("status").asText()).isEqualTo("completed");
    assertThat(run.get("trigger_id").asText()).isEqualTo(hook.id());
    JsonNode messages = fake.requests().stream()
        .filter(r -> r.lastMessageContent().equals("Order A-17 by tea")).findFirst().orElseThrow().messages();
    assertThat(messages.get(0).get("content").asText()).isEqualTo("You help Ada.");
    JsonNode audit = api.get("/api/audit?limit=200").json();
    assertThat(audit.toString()).contains("trigger:" + hook.id()).doesNotContain(hook.secret());
  }

  @Test
  void the_secret_is_shown_once_and_never_again() {
    Hook hook = webhook(Map.of());

    String shown = api.get("/api/triggers/" + hook.id()).text() + api.get("/api/triggers").text();

    assertThat(shown).contains(hook.id()).doesNotContain(hook.secret()).doesNotContain("\"secret\"");
  }

  @Test
  void a_bad_missing_or_stale_signature_is_401_and_starts_nothing() {
    Hook hook = webhook(Map.of());
    int requestsBefore = fake.requests().size();
    long now = Instant.now().getEpochSecond();

    List<Http.Response> refused = List.of(
        deliver(hook, ORDER, now, sign("not-the-secret", now, ORDER), null),
        deliver(hook, ORDER, now, sign(hook.secret(), now, ORDER + " "), null),
        deliver(hook, ORDER, now, null, null),
        deliver(hook, ORDER, now - 301, sign(hook.secret(), now - 301, ORDER), null),
        deliver(hook, ORDER, now + 301, sign(hook.secret(), now + 301, ORDER), null),
        deliver(hook, ORDER, now, "sha256=zz", null),
        server.anonymous().send("POST", "/hooks/" + hook.id(), ORDER, Map.of("Content-Type", "application/json",
            "X-Aryabhatta-Signature", sign(hook.secret(), now, ORDER))));

    for (Http.Response r : refused) {
      assertThat(r.status()).as(r.toString()).isEqualTo(401);
      assertThat(r.header("Content-Type")).startsWith("application/problem+json");
      assertThat(r.text()).doesNotContain(hook.secret());
    }
    AgentSetup.sleep(300);
    assertThat(fake.requests()).hasSize(requestsBefore);
    assertThat(runsStartedBy(hook.id())).isZero();
  }

  @Test
  void a_retried_delivery_answers_the_same_run_and_starts_no_second_one() {
    Hook hook = webhook(Map.of());

    Http.Response first = deliverSigned(hook, ORDER, "delivery-1");
    Http.Response again = deliverSigned(hook, ORDER, "delivery-1");
    Http.Response other = deliverSigned(hook, ORDER, "delivery-2");

    assertThat(first.status()).isEqualTo(202);
    assertThat(again.status()).isEqualTo(202);
    assertThat(again.json().get("run_id").asText()).isEqualTo(first.json().get("run_id").asText());
    assertThat(again.json().get("duplicate").asBoolean()).isTrue();
    assertThat(other.json().get("run_id").asText()).isNotEqualTo(first.json().get("run_id").asText());
    assertThat(runsStartedBy(hook.id())).isEqualTo(2);
  }

  @Test
  void deliveries_racing_with_one_id_start_one_run() throws Exception {
    Hook hook = webhook(Map.of());
    List<Callable<Http.Response>> racers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      racers.add(() -> deliverSigned(hook, ORDER, "raced"));
    }

    List<String> runIds = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Future<Http.Response> answer : pool.invokeAll(racers)) {
        assertThat(answer.get().status()).as(answer.get().toString()).isEqualTo(202);
        runIds.add(answer.get().json().get("run_id").asText());
      }
    }

    assertThat(runIds).containsOnly(runIds.get(0));
    assertThat(runsStartedBy(hook.id())).isEqualTo(1);
  }

  @Test
  void a_payload_without_a_templated_field_is_422_and_starts_nothing() {
    Hook hook = webhook(Map.of());

    Http.Response refused = deliverSigned(hook, "{\"order\": {\"id\": \"A-18\"}}", "d-422");

    assertThat(refused.status()).as(refused.toString()).isEqualTo(422);
    assertThat(refused.text()).contains("payload.order.items.0.name").contains("payload.customer.name");
    assertThat(runsStartedBy(hook.id())).isZero();
    Http.Response notJson = deliverSigned(hook, "not json", null);
    assertThat(notJson.status()).as(notJson.toString()).isEqualTo(400);
  }

  @Test
  void another_workspace_cannot_see_or_manage_the_trigger() {
    Hook hook = webhook(Map.of());
    Http other = Workspaces.otherWorkspace(server, "webhook-other-" + System.nanoTime());

    assertThat(other.get("/api/triggers/" + hook.id()).status()).isEqualTo(404);
    assertThat(other.post("/api/triggers/" + hook.id() + "/pause", Map.of()).status()).isEqualTo(404);
    assertThat(other.delete("/api/triggers/" + hook.id()).status()).isEqualTo(404);
    assertThat(other.get("/api/triggers").text()).doesNotContain(hook.id());
    assertThat(other.post("/api/triggers", Map.of("agent_id", agentId, "kind", "webhook",
        "input_template", "x")).status()).isEqualTo(422);
  }

  @Test
  void a_paused_webhook_refuses_deliveries_until_resumed_and_a_deleted_one_is_gone() {
    Hook hook = webhook(Map.of());

    assertThat(api.post("/api/triggers/" + hook.id() + "/pause", Map.of()).json().get("state").asText())
        .isEqualTo("paused");
    assertThat(deliverSigned(hook, ORDER, null).status()).isEqualTo(409);
    api.post("/api/triggers/" + hook.id() + "/resume", Map.of());
    assertThat(deliverSigned(hook, ORDER, null).status()).isEqualTo(202);
    assertThat(api.delete("/api/triggers/" + hook.id()).status()).isEqualTo(204);
    assertThat(deliverSigned(hook, ORDER, null).status()).isEqualTo(404);
  }

  @Test
  void runs_of_a_named_conversation_share_it() {
    Hook hook = webhook(Map.of("conversation", "orders"));

    JsonNode firstDelivery = deliverSigned(hook, ORDER, null).json();
    String first = firstDelivery.get("conversation_id").asText();
    // One active run at a time in a conversation: the next delivery comes once this run has ended.
    setup.awaitSettled(firstDelivery.get("run_id").asText());
    setup.awaitSettled(deliverSigned(hook, ORDER, "x").json().get("run_id").asText());
    Http.Response second = deliverSigned(hook, ORDER, "y");

    assertThat(second.json().get("conversation_id").asText()).isEqualTo(first);
    assertThat(api.get("/api/triggers/" + hook.id()).json().get("conversation_id").asText()).isEqualTo(first);
  }

  @Test
  void invalid_triggers_are_422_field_by_field() {
    Http.Response refused = api.post("/api/triggers", Map.of("agent_id", "nope", "kind", "cron",
        "input_template", "{{secret.X}}"));
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.text()).contains("agent_id").contains("kind").contains("input_template");

    Http.Response missingVariable = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "webhook",
        "input_template", "hi"));
    assertThat(missingVariable.status()).isEqualTo(422);
    assertThat(missingVariable.text()).contains("variables_template.customer");
  }

  /** The runs the trigger started, as stored. */
  static int runsStartedBy(String triggerId) {
    return server.server().database().jdbi().withHandle(h -> h.createQuery(
            "SELECT count(*) FROM runs WHERE trigger_id = :t").bind("t", triggerId).mapTo(Integer.class).one());
  }
}
