package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.RunProbe;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Exactly-once and honesty, in one process: a call whose outcome nobody can know is never reported
 * as a plain failure, a value PostgreSQL cannot store never stalls a run, a nearly expired lease is
 * claimed again before the next side effect, and answers to a run are idempotent like creations.
 * Each test has a server, a model and tool targets of its own.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ExactlyOnceTest {
  private static final Duration SETTLE = Duration.ofSeconds(15);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private String databaseUrl;
  private FakeModelServer model;
  private TestServer server;
  private Http api;
  private AgentSetup setup;
  private RunProbe probe;

  @BeforeEach
  void freshWorld() {
    model = track(FakeModelServer.start());
    databaseUrl = TestPostgres.freshDatabase();
    server = track(TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1",
        "DB_CONNECTION_STRING", databaseUrl, "ARYABHATTA_LEASE_SECONDS", "30")));
    api = server.admin;
    setup = new AgentSetup(api, model);
    probe = new RunProbe(api);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  // ---- 2: ambiguous outcomes of a non-idempotent HTTP tool ----

  @Test
  void a_502_from_a_non_idempotent_tool_leaves_its_outcome_unknown_for_a_person_to_settle() {
    ToolTarget payments = track(ToolTarget.start().answer(502, "{\"error\":\"bad gateway\"}"));
    String agent = chargingAgent(payments);
    model.enqueue(toolCall("charge", "{\"q\":\"order-1\"}"), text("The charge failed."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "charge it"), SETTLE);

    assertOutcomeLeftUnknown(run, payments);
  }

  @Test
  void a_connection_closed_without_an_answer_leaves_a_non_idempotent_call_unknown() {
    ToolTarget payments = track(ToolTarget.start().hangUp());
    String agent = chargingAgent(payments);
    model.enqueue(toolCall("charge", "{\"q\":\"order-2\"}"), text("The charge failed."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "charge it"), SETTLE);

    assertOutcomeLeftUnknown(run, payments);
  }

  @Test
  void a_refused_connection_is_a_plain_failure_the_model_is_told_about() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    setup.httpTool("charge", "POST", "http://127.0.0.1:" + closedPort + "/charge", Map.of("idempotent", false));
    String agent = setup.agent(List.of("charge"), Map.of());
    model.enqueue(toolCall("charge", "{\"q\":\"order-3\"}"), text("The payment service is down."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "charge it"), SETTLE);

    // Nothing was sent: the model may decide what to do next, and it did.
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    JsonNode tool = probe.steps(run.get("id").asText()).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("failed");
    assertThat(model.requests()).hasSize(2);
  }

  @Test
  void an_idempotent_tool_answering_502_once_is_retried_with_the_same_key_and_completes() {
    ToolTarget lookups = track(ToolTarget.start().answer(200, "{\"stock\":7}").failNext(1, 502));
    setup.httpTool("stock", "GET", lookups.url("/stock/{q}"), Map.of("idempotent", true));
    String agent = setup.agent(List.of("stock"), Map.of());
    model.enqueue(toolCall("stock", "{\"q\":\"tea\"}"), text("7 in stock."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "how many?"), SETTLE);

    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    JsonNode tool = probe.steps(run.get("id").asText()).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("completed");
    assertThat(lookups.calls()).extracting(ToolTarget.Call::idempotencyKey)
        .containsExactly(tool.get("idempotency_key").asText(), tool.get("idempotency_key").asText());
    assertThat(model.lastRequest().lastMessageContent()).isEqualTo("{\"stock\":7}");
  }

  /** Beyond the numbered contract: ToolOutcome documents a timeout after sending as an unknown outcome. */
  @Test
  void a_non_idempotent_call_that_times_out_after_sending_leaves_its_outcome_unknown() {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofSeconds(3)));
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false,
        "http", Map.of("method", "POST", "url", payments.url("/charge"), "timeout_ms", 1000)));
    String agent = setup.agent(List.of("charge"), Map.of());
    model.enqueue(toolCall("charge", "{\"q\":\"order-2e\"}"), text("The charge timed out."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "charge it"), SETTLE);

    assertOutcomeLeftUnknown(run, payments);
  }

  /**
   * Beyond the numbered contract, found while writing 5: a call is given its own {@code timeout_ms}
   * (up to 120 s), so an answer after 11 s of a 20 s timeout is the tool's answer, not a timeout.
   */
  @Test
  void an_http_tool_slower_than_ten_seconds_gets_its_answer_within_its_own_timeout() {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofSeconds(11)).answer(200, "{\"charged\":true}"));
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false,
        "http", Map.of("method", "POST", "url", payments.url("/charge"), "timeout_ms", 20_000)));
    String agent = setup.agent(List.of("charge"), Map.of());
    model.enqueue(toolCall("charge", "{\"q\":\"order-slow\"}"), text("Charged."));

    JsonNode run = probe.awaitSettled(probe.start(agent, "charge it"), Duration.ofSeconds(25));

    JsonNode tool = probe.steps(run.get("id").asText()).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("completed");
    assertThat(tool.get("result").asText()).isEqualTo("{\"charged\":true}");
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    assertThat(payments.calls()).hasSize(1);
  }

  // ---- 3: a value PostgreSQL cannot store ----

  @Test
  void a_nul_byte_in_a_tool_answer_is_stored_as_the_replacement_character_and_the_run_completes() {
    ToolTarget lookups = track(ToolTarget.start().contentType("text/plain").answer(200, "before\u0000after"));
    setup.httpTool("lookup", "GET", lookups.url("/orders/{q}"), Map.of());
    String agent = setup.agent(List.of("lookup"), Map.of());
    model.enqueue(toolCall("lookup", "{\"q\":\"42\"}"), text("Found it."));
    String runId = probe.start(agent, "look it up");

    JsonNode run = probe.awaitSettled(runId, SETTLE);

    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    JsonNode tool = probe.steps(runId).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("completed");
    assertThat(tool.get("result").asText()).contains("before\uFFFDafter");
    assertThat(lookups.calls()).hasSize(1);
  }

  @Test
  void a_nul_byte_in_the_models_final_answer_is_stored_as_the_replacement_character() {
    String agent = setup.agent(List.of(), Map.of());
    model.enqueue(text("before\u0000after"));
    String runId = probe.start(agent, "answer");

    JsonNode run = probe.awaitSettled(runId, SETTLE);

    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    assertThat(run.get("output").asText()).isEqualTo("before\uFFFDafter");
  }

  // ---- 6: self-fencing before a side effect ----

  @Test
  void a_lease_with_less_than_a_third_left_is_claimed_again_before_the_next_model_call() throws SQLException {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofMillis(1500)));
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
    String agent = setup.agent(List.of("charge"), Map.of());
    Connection db = track(TestPostgres.connect(databaseUrl));
    List<Long> epochAtRequest = new CopyOnWriteArrayList<>();
    AtomicInteger requests = new AtomicInteger();
    model.respondWith(request -> {
      epochAtRequest.add(leaseEpoch(databaseUrl));
      return requests.incrementAndGet() == 1 ? toolCall("charge", "{\"q\":\"order-6\"}") : text("charged");
    });
    String runId = probe.start(agent, "charge it");
    RunProbe.await(() -> payments.calls().size() == 1 ? true : null, SETTLE, () -> "the tool was not called");

    // As after missed heartbeats: 3 s left of a 30 s lease, and no heartbeat gets it back.
    long epoch = epochAtRequest.get(0);
    try (Statement st = db.createStatement()) {
      st.execute("""
          CREATE FUNCTION test_missed_heartbeats() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.lease_epoch = OLD.lease_epoch AND NEW.lease_expires_at > OLD.lease_expires_at THEN
              NEW.lease_expires_at := OLD.lease_expires_at;
            END IF;
            RETURN NEW;
          END $$""");
      st.execute("CREATE TRIGGER test_missed_heartbeats BEFORE UPDATE ON runs FOR EACH ROW WHEN (OLD.id = '"
          + runId + "' AND OLD.lease_epoch = " + epoch + ") EXECUTE FUNCTION test_missed_heartbeats()");
      assertThat(st.executeUpdate("UPDATE runs SET lease_expires_at = now() + interval '3 seconds' WHERE id = '"
          + runId + "' AND lease_epoch = " + epoch)).isEqualTo(1);
    }

    JsonNode run = probe.awaitSettled(runId, SETTLE);

    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    assertThat(payments.calls()).hasSize(1);
    assertThat(epochAtRequest).hasSize(2);
    assertThat(epochAtRequest.get(1))
        .as("lease epoch when the second model request arrived (first request: epoch %s)", epochAtRequest.get(0))
        .isGreaterThan(epochAtRequest.get(0));
  }

  // ---- 8c: answers to a run are idempotent ----

  @Test
  void cancel_sent_twice_with_one_idempotency_key_answers_the_first_result_again() {
    String runId = runWaitingForClientOutput();

    Http.Response first = api.post("/api/runs/" + runId + "/cancel", Map.of(), Map.of("Idempotency-Key", "cancel-1"));
    Http.Response second = api.post("/api/runs/" + runId + "/cancel", Map.of(), Map.of("Idempotency-Key", "cancel-1"));

    assertReplayed(first, second);
    assertThat(first.json().get("status").asText()).isEqualTo("cancelled");
  }

  @Test
  void approvals_sent_twice_with_one_idempotency_key_answer_the_first_result_again() {
    ToolTarget refunds = track(ToolTarget.start());
    setup.httpTool("refund", "POST", refunds.url("/refund"), Map.of("idempotent", false));
    String agent = setup.agent(List.of("refund"), Map.of("tool_approval", "always"));
    model.enqueue(toolCall("refund", "{\"q\":\"order-8\"}"), text("Refunded."));
    JsonNode waiting = probe.awaitSettled(probe.start(agent, "refund it"), SETTLE);
    assertThat(waiting.at("/required_action/type").asText()).isEqualTo("approve_tool_calls");
    String runId = waiting.get("id").asText();
    Map<String, Object> body = Map.of("decisions",
        List.of(Map.of("tool_call_id", waiting.at("/required_action/tool_calls/0/id").asText(), "approve", true)));

    Http.Response first = api.post("/api/runs/" + runId + "/approvals", body, Map.of("Idempotency-Key", "approve-1"));
    Http.Response second = api.post("/api/runs/" + runId + "/approvals", body, Map.of("Idempotency-Key", "approve-1"));

    assertReplayed(first, second);
    assertThat(probe.awaitSettled(runId, SETTLE).get("status").asText()).isEqualTo("completed");
    assertThat(refunds.calls()).hasSize(1);
  }

  @Test
  void tool_outputs_sent_twice_with_one_idempotency_key_answer_the_first_result_again() {
    String runId = runWaitingForClientOutput();
    String callId = probe.run(runId).at("/required_action/tool_calls/0/id").asText();
    model.enqueue(text("Pune it is."));
    Map<String, Object> body = Map.of("tool_outputs", List.of(Map.of("tool_call_id", callId, "output", "Pune")));

    Http.Response first = api.post("/api/runs/" + runId + "/tool_outputs", body, Map.of("Idempotency-Key", "out-1"));
    Http.Response second = api.post("/api/runs/" + runId + "/tool_outputs", body, Map.of("Idempotency-Key", "out-1"));

    assertReplayed(first, second);
    assertThat(probe.awaitSettled(runId, SETTLE).get("status").asText()).isEqualTo("completed");
    assertThat(model.requests()).hasSize(2);
  }

  // ---- helpers ----

  private String chargingAgent(ToolTarget payments) {
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
    return setup.agent(List.of("charge"), Map.of());
  }

  /** The call may have taken effect: a person settles it, the model is not asked, nothing is repeated. */
  private void assertOutcomeLeftUnknown(JsonNode run, ToolTarget target) {
    String runId = run.get("id").asText();
    JsonNode tool = probe.steps(runId).get(1);
    assertThat(run.get("status").asText()).as("run %s\ntool step %s", run, tool).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("unknown_outcome");
    assertThat(tool.get("error").asText()).as("tool step %s", tool).containsIgnoringCase("outcome unknown");
    assertThat(target.calls()).hasSize(1);
    assertThat(model.requests()).hasSize(1);
  }

  private String runWaitingForClientOutput() {
    setup.clientTool("ask_user");
    String agent = setup.agent(List.of("ask_user"), Map.of());
    model.enqueue(toolCall("ask_user", "{\"question\":\"Which city?\"}"));
    JsonNode run = probe.awaitSettled(probe.start(agent, "weather?"), SETTLE);
    assertThat(run.at("/required_action/type").asText()).as("run %s", run).isEqualTo("submit_tool_outputs");
    return run.get("id").asText();
  }

  private static void assertReplayed(Http.Response first, Http.Response second) {
    assertThat(first.status()).as("first: %s", first).isEqualTo(200);
    assertThat(second.status()).as("second, same key and body: %s", second).isEqualTo(200);
    assertThat(second.header("Idempotent-Replayed")).as("second: %s", second).isEqualTo("true");
    assertThat(second.json()).isEqualTo(first.json());
  }

  /** The lease epoch of the only run of this test's database, read on a connection of its own. */
  private static long leaseEpoch(String databaseUrl) {
    try (Connection db = TestPostgres.connect(databaseUrl); Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("SELECT lease_epoch FROM runs")) {
      if (!rs.next()) {
        throw new AssertionError("no run in the database");
      }
      long epoch = rs.getLong(1);
      if (rs.next()) {
        throw new AssertionError("more than one run in the database");
      }
      return epoch;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }
}
