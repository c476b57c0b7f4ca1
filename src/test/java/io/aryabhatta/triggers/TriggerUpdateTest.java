package io.aryabhatta.triggers;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static io.aryabhatta.testing.ProblemAssert.fields;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import io.aryabhatta.testing.Workspaces;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PATCH /api/triggers/{id}: what the next runs are made of changes; what the trigger is does not. */
class TriggerUpdateTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  static String agentId;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> text("done"));
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"));
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

  static Hook webhook() {
    Http.Response created = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "webhook",
        "input_template", "Order {{payload.id}}", "variables_template", Map.of("customer", "{{payload.name}}")));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    return new Hook(created.json().get("id").asText(), created.json().get("secret").asText());
  }

  /** A schedule that does not fire while the test runs: 9:00 in Berlin on the 1st of January. */
  static String schedule() {
    Http.Response created = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "schedule",
        "cron", "0 9 1 1 *", "time_zone", "Europe/Berlin", "input_template", "Report",
        "variables_template", Map.of("customer", "the team")));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    return created.json().get("id").asText();
  }

  static Http.Response patch(String id, Object body) {
    return api.patch("/api/triggers/" + id, body);
  }

  @Test
  void a_patched_webhook_starts_its_next_runs_from_the_new_templates_and_callback_and_never_shows_its_secret()
      throws IOException {
    Hook hook = webhook();
    try (ToolTarget target = ToolTarget.start()) {
      Http.Response patched = patch(hook.id(), Map.of("input_template", "Refund {{payload.id}}",
          "variables_template", Map.of("customer", "{{payload.name}} (VIP)"), "callback_url", target.url("/done")));

      assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
      assertThat(patched.json().get("input_template").asText()).isEqualTo("Refund {{payload.id}}");
      assertThat(patched.json().get("callback_url").asText()).isEqualTo(target.url("/done"));
      assertThat(patched.json().get("kind").asText()).isEqualTo("webhook");
      assertThat(patched.text()).doesNotContain(hook.secret()).doesNotContain("\"secret\"");
      assertThat(api.get("/api/triggers/" + hook.id()).json()).isEqualTo(patched.json());

      String runId = deliver(hook, "{\"id\": \"R-9\", \"name\": \"Ada\"}");
      setup.awaitSettled(runId);
      JsonNode messages = fake.requests().stream()
          .filter(r -> r.lastMessageContent().equals("Refund R-9")).findFirst().orElseThrow().messages();
      assertThat(messages.get(0).get("content").asText()).isEqualTo("You help Ada (VIP).");
      awaitCalls(target, 1);
      assertThat(Http.JSON.readTree(target.calls().getFirst().body()).get("id").asText()).isEqualTo(runId);
    }

    Map<String, Object> noCallback = new HashMap<>();
    noCallback.put("callback_url", null);
    Http.Response cleared = patch(hook.id(), noCallback);
    assertThat(cleared.json().get("callback_url").isNull()).isTrue();
    String next = deliver(hook, "{\"id\": \"R-10\", \"name\": \"Ada\"}");
    assertThat(api.get("/api/runs/" + next).json().get("callback_url").isNull()).isTrue();

    String audit = api.get("/api/audit?resource_id=" + hook.id() + "&action=trigger.updated").text();
    assertThat(audit).contains("trigger.updated").contains("input_template").doesNotContain(hook.secret());
  }

  @Test
  void a_new_cron_and_time_zone_recompute_the_next_fire_times_and_missed_is_kept_or_changed() {
    String id = schedule();

    Http.Response patched = patch(id, Map.of("cron", "30 6 * * *", "time_zone", "America/New_York",
        "missed", "run_once"));

    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    JsonNode view = patched.json();
    assertThat(view.get("cron").asText()).isEqualTo("30 6 * * *");
    assertThat(view.get("time_zone").asText()).isEqualTo("America/New_York");
    assertThat(view.get("missed").asText()).isEqualTo("run_once");
    List<Instant> next = nextFireTimes(view);
    assertThat(next).hasSize(5);
    Instant now = Instant.now();
    assertThat(next.getFirst()).isAfter(now).isBefore(now.plus(Duration.ofHours(25)));
    for (Instant tick : next) {
      ZonedDateTime local = tick.atZone(ZoneId.of("America/New_York"));
      assertThat(local.getHour()).isEqualTo(6);
      assertThat(local.getMinute()).isEqualTo(30);
    }

    Http.Response templatesOnly = patch(id, Map.of("input_template", "Morning report"));
    assertThat(nextFireTimes(templatesOnly.json())).isEqualTo(next);
    assertThat(templatesOnly.json().get("missed").asText()).isEqualTo("run_once");
  }

  @Test
  void a_paused_schedule_stays_paused_when_patched_and_resumes_on_its_new_cron() {
    String id = schedule();
    api.post("/api/triggers/" + id + "/pause", Map.of());

    JsonNode paused = patch(id, Map.of("cron", "0 12 * * *", "time_zone", "UTC")).json();
    assertThat(paused.get("state").asText()).isEqualTo("paused");
    assertThat(paused.get("next_fire_times")).isEmpty();

    JsonNode resumed = api.post("/api/triggers/" + id + "/resume", Map.of()).json();
    assertThat(nextFireTimes(resumed)).allSatisfy(t -> assertThat(t.atZone(ZoneId.of("UTC")).getHour()).isEqualTo(12));
  }

  @Test
  void a_new_conversation_name_puts_the_next_run_in_a_new_conversation() {
    Hook hook = webhook();
    patch(hook.id(), Map.of("conversation", "orders-a"));
    String first = deliver(hook, "{\"id\": \"1\", \"name\": \"Ada\"}");
    String conversationA = setup.awaitSettled(first).get("conversation_id").asText();

    JsonNode renamed = patch(hook.id(), Map.of("conversation", "orders-b")).json();
    assertThat(renamed.get("conversation").asText()).isEqualTo("orders-b");
    assertThat(renamed.get("conversation_id").isNull()).isTrue();
    String second = deliver(hook, "{\"id\": \"2\", \"name\": \"Ada\"}");
    String conversationB = setup.awaitSettled(second).get("conversation_id").asText();

    assertThat(conversationB).isNotEqualTo(conversationA);
    assertThat(api.get("/api/triggers/" + hook.id()).json().get("conversation_id").asText()).isEqualTo(conversationB);
  }

  @Test
  void invalid_patches_are_422_field_by_field_and_change_nothing() {
    Hook hook = webhook();
    String scheduled = schedule();
    JsonNode hookBefore = api.get("/api/triggers/" + hook.id()).json();
    JsonNode scheduleBefore = api.get("/api/triggers/" + scheduled).json();
    Map<String, Object> nullInput = new HashMap<>();
    nullInput.put("input_template", null);

    record Case(String id, Object body, List<String> fields) {}
    List<Case> cases = List.of(
        new Case(scheduled, Map.of("cron", "61 * * * *"), List.of("cron")),
        new Case(scheduled, Map.of("time_zone", "Mars/Olympus"), List.of("time_zone")),
        new Case(scheduled, Map.of("missed", "sometimes"), List.of("missed")),
        new Case(scheduled, Map.of("input_template", "{{payload.order}}"), List.of("input_template")),
        new Case(hook.id(), Map.of("cron", "* * * * *"), List.of("cron")),
        new Case(hook.id(), Map.of("kind", "schedule", "agent_id", "other"), List.of("kind", "agent_id")),
        new Case(hook.id(), Map.of("secret", "mine"), List.of("secret")),
        new Case(hook.id(), Map.of("input_template", 7), List.of("input_template")),
        new Case(hook.id(), nullInput, List.of("input_template")),
        new Case(hook.id(), Map.of("variables_template", Map.of()), List.of("variables_template.customer")),
        new Case(hook.id(), Map.of("variables_template", Map.of("customer", 3)), List.of("variables_template.customer")),
        new Case(hook.id(), Map.of("conversation", ""), List.of("conversation")),
        new Case(hook.id(), Map.of("callback_url", "http://169.254.169.254/latest"), List.of("callback_url")),
        new Case(hook.id(), Map.of("callback_url", "not a url"), List.of("callback_url")));
    for (Case c : cases) {
      JsonNode problem = assertProblem(patch(c.id(), c.body()), 422);
      assertThat(fields(problem)).as(c.toString()).containsExactlyInAnyOrderElementsOf(c.fields());
    }
    assertProblem(api.send("PATCH", "/api/triggers/" + hook.id(), "[1]", Map.of("Content-Type", "application/json")),
        400);
    assertProblem(api.send("PATCH", "/api/triggers/" + hook.id(), "{", Map.of("Content-Type", "application/json")),
        400);

    assertThat(api.get("/api/triggers/" + hook.id()).json()).isEqualTo(hookBefore);
    assertThat(api.get("/api/triggers/" + scheduled).json()).isEqualTo(scheduleBefore);
  }

  @Test
  void an_unknown_deleted_or_other_workspaces_trigger_is_404() {
    Hook hook = webhook();
    Http other = Workspaces.otherWorkspace(server, "patch-other-" + System.nanoTime());

    assertProblem(patch("no-such-trigger", Map.of("input_template", "x")), 404);
    assertProblem(other.patch("/api/triggers/" + hook.id(), Map.of("input_template", "x")), 404);
    assertThat(api.delete("/api/triggers/" + hook.id()).status()).isEqualTo(204);
    assertProblem(patch(hook.id(), Map.of("input_template", "x")), 404);
  }

  private static List<Instant> nextFireTimes(JsonNode view) {
    return java.util.stream.StreamSupport.stream(view.get("next_fire_times").spliterator(), false)
        .map(n -> Instant.parse(n.asText())).toList();
  }

  private static String deliver(Hook hook, String body) {
    long now = Instant.now().getEpochSecond();
    Http.Response accepted = server.anonymous().send("POST", "/hooks/" + hook.id(), body, Map.of(
        "Content-Type", "application/json", "X-Aryabhatta-Timestamp", Long.toString(now),
        "X-Aryabhatta-Signature", WebhookSignature.sign(hook.secret(), now, body.getBytes(StandardCharsets.UTF_8))));
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    return accepted.json().get("run_id").asText();
  }

  private static void awaitCalls(ToolTarget target, int count) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (target.calls().size() < count && System.nanoTime() < deadline) {
      AgentSetup.sleep(100);
    }
    assertThat(target.calls()).hasSize(count);
  }
}
