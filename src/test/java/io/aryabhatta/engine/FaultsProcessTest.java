package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.RunProbe;
import io.aryabhatta.testing.RunWatch;
import io.aryabhatta.testing.ServerProcess;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.ToolTarget;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fault suite: a database outage, SIGTERM of one of two nodes, and cancels arriving at the
 * node that does not run the run, each while a side effect is in flight. Real server processes
 * on one PostgreSQL of the test JVM (a 2-second lease unless a test says otherwise); the model and
 * the tool targets are real servers in this JVM that count what they receive.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FaultsProcessTest {
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final String CHARGED = "{\"charged\":\"order-1\",\"receipt\":\"r-77\"}";

  private final List<AutoCloseable> resources = new ArrayList<>();
  private String database;
  private FakeModelServer model;
  private final AtomicInteger modelRequests = new AtomicInteger();

  @BeforeEach
  void freshWorld() {
    database = TestPostgres.freshDatabase();
    model = track(FakeModelServer.start());
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  // ---- 4: the database goes away while a non-idempotent call is in flight ----

  @Test
  void a_database_outage_during_a_non_idempotent_call_loses_neither_its_answer_nor_the_run() throws SQLException {
    databaseOutageDuringACharge("db-outage", Duration.ofSeconds(8));
  }

  /**
   * The same with an outage outlasting the connection pool's wait for a connection (10 s): the
   * tool's answer arrives 3 s into it, so its commit cannot get a connection before the pool gives up.
   */
  @Test
  void a_database_outage_longer_than_the_pools_connection_wait_loses_neither_the_answer_nor_the_run()
      throws SQLException {
    databaseOutageDuringACharge("db-long-outage", Duration.ofSeconds(15));
  }

  private void databaseOutageDuringACharge(String name, Duration outage) throws SQLException {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofSeconds(3)).answer(200, CHARGED));
    ServerProcess server = track(ServerProcess.start(name, database, Map.of("ARYABHATTA_LEASE_SECONDS", "30")));
    String agent = chargingAgent(server.admin(), payments);
    chargeThenAnswer();
    RunProbe probe = new RunProbe(server.admin());
    String runId = probe.start(agent, "charge order-1");
    RunWatch watch = track(RunWatch.start(server.admin(), runId));
    RunProbe.await(() -> payments.calls().size() == 1 ? true : null, SETTLE, () -> "the tool was not called");

    refuseConnections(TestPostgres.databaseName(database), outage);

    JsonNode run = probe.awaitSettled(runId, Duration.ofSeconds(40));
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    assertThat(watch.states()).as("states the run was seen in").noneMatch(s -> s.startsWith("requires_action"));
    assertToolAnsweredOnceForReal(probe, runId, payments, watch);
  }

  // ---- 5: SIGTERM of the node running a non-idempotent call ----

  @Test
  void sigterm_lets_a_long_non_idempotent_call_finish_and_the_other_node_completes_the_run() {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofSeconds(25)).answer(200, CHARGED));
    ServerProcess a = track(ServerProcess.start("grace-a", database, Map.of()));
    String agent = chargingAgent(a.admin(), payments);
    chargeThenAnswer();
    String runId = new RunProbe(a.admin()).start(agent, "charge order-1");
    RunProbe.await(() -> payments.calls().size() == 1 ? true : null, SETTLE, () -> "the tool was not called");
    // B starts once A holds the run and its call is in flight.
    ServerProcess b = track(ServerProcess.start("grace-b", database, Map.of()));
    RunProbe probeB = new RunProbe(b.admin());
    RunWatch watch = track(RunWatch.start(b.admin(), runId));

    Duration exit = a.terminate(Duration.ofSeconds(45));

    JsonNode run = probeB.awaitSettled(runId, SETTLE);
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    assertThat(watch.states()).as("states the run was seen in").noneMatch(s -> s.startsWith("requires_action"));
    assertToolAnsweredOnceForReal(probeB, runId, payments, watch);
    assertThat(exit).as("A exited by itself after SIGTERM").isNotNull();
    assertThat(engineAudit(b.admin(), runId, "run.completed")).as("who completed the run (B is %s)", b.node())
        .extracting(e -> e.at("/details/node").asText()).containsExactly(b.node());
  }

  @Test
  void a_call_still_in_flight_when_the_shutdown_grace_ends_is_left_unknown_not_timed_out() {
    ToolTarget payments = track(ToolTarget.start().delay(Duration.ofSeconds(12)).answer(200, CHARGED));
    // B is up before the run starts, so that A's 2 s of grace surely end with the call in flight.
    ServerProcess a = track(ServerProcess.start("short-grace-a", database,
        Map.of("ARYABHATTA_SHUTDOWN_GRACE_SECONDS", "2")));
    ServerProcess b = track(ServerProcess.start("short-grace-b", database, Map.of()));
    String agent = chargingAgent(a.admin(), payments);
    chargeThenAnswer();
    String runId = new RunProbe(a.admin()).start(agent, "charge order-1");
    RunProbe.await(() -> payments.calls().size() == 1 ? true : null, SETTLE, () -> "the tool was not called");
    RunProbe probeB = new RunProbe(b.admin());

    Duration exit = a.terminate(Duration.ofSeconds(30));

    JsonNode run = probeB.awaitSettled(runId, SETTLE);
    JsonNode tool = probeB.steps(runId).get(1);
    assertThat(run.get("status").asText()).as("run %s\ntool step %s", run, tool).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("unknown_outcome");
    assertThat(tool.toString()).as("tool step").doesNotContainIgnoringCase("timed out");
    assertThat(run.toString()).as("run").doesNotContainIgnoringCase("timed out");
    assertThat(payments.calls()).hasSize(1);
    assertThat(exit).as("time from SIGTERM to A's exit, with ARYABHATTA_SHUTDOWN_GRACE_SECONDS=2")
        .isNotNull().isLessThan(Duration.ofSeconds(8));
  }

  // ---- 8: a cancel sent to the node that does not run the run ----

  @Test
  void a_cancel_sent_to_another_node_during_a_model_call_cancels_the_run() {
    ServerProcess a = track(ServerProcess.start("cancel-a", database, Map.of()));
    ServerProcess b = track(ServerProcess.start("cancel-b", database, Map.of()));
    String agent = new AgentSetup(a.admin(), model).agent(List.of(), Map.of());
    model.respondWith(request -> text("the final answer").withDelay(Duration.ofSeconds(3)));
    String runId = new RunProbe(a.admin()).start(agent, "answer slowly");
    RunProbe.await(() -> model.requests().size() == 1 ? true : null, SETTLE, () -> "the model call did not start");

    Http.Response cancel = b.admin().post("/api/runs/" + runId + "/cancel", Map.of());

    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    RunProbe probeB = new RunProbe(b.admin());
    JsonNode run = probeB.awaitSettled(runId, SETTLE);
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("cancelled");
    assertNoStepLeftStarted(probeB, runId);
  }

  @Test
  void a_cancel_sent_to_another_node_right_after_the_running_node_died_leaves_no_step_started() {
    ServerProcess a = track(ServerProcess.start("dead-cancel-a", database, Map.of()));
    ServerProcess b = track(ServerProcess.start("dead-cancel-b", database, Map.of()));
    String agent = new AgentSetup(a.admin(), model).agent(List.of(), Map.of());
    model.respondWith(request -> text("never delivered").withDelay(Duration.ofSeconds(60)));
    String runId = new RunProbe(a.admin()).start(agent, "hang");
    RunProbe.await(() -> model.requests().size() == 1 ? true : null, SETTLE, () -> "the model call did not start");

    a.kill();
    Http.Response cancel = b.admin().post("/api/runs/" + runId + "/cancel", Map.of());

    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    RunProbe probeB = new RunProbe(b.admin());
    JsonNode run = probeB.awaitSettled(runId, Duration.ofSeconds(15));
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("cancelled");
    assertNoStepLeftStarted(probeB, runId);
    assertThat(model.requests()).hasSize(1);
  }

  // ---- helpers ----

  private String chargingAgent(Http api, ToolTarget payments) {
    AgentSetup setup = new AgentSetup(api, model);
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false,
        "http", Map.of("method", "POST", "url", payments.url("/charge"), "timeout_ms", 60_000)));
    return setup.agent(List.of("charge"), Map.of());
  }

  /** The run's first model request asks for the charge; every later one is answered with text. */
  private void chargeThenAnswer() {
    model.respondWith(request -> modelRequests.incrementAndGet() == 1
        ? toolCall("charge", "{\"q\":\"order-1\"}") : text("Charged."));
  }

  /** The call ran once, its step completed with the target's answer, and the model was told that answer. */
  private void assertToolAnsweredOnceForReal(RunProbe probe, String runId, ToolTarget target, RunWatch watch) {
    JsonNode tool = probe.steps(runId).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s (run states %s)", tool, watch.states())
        .isEqualTo("completed");
    assertThat(target.calls()).hasSize(1);
    assertThat(model.requests()).hasSize(2);
    assertThat(model.lastRequest().lastMessageContent()).as("the tool message the model got").isEqualTo(CHARGED);
    List<JsonNode> messages = probe.messages(probe.run(runId).get("conversation_id").asText());
    assertThat(messages).filteredOn(m -> m.get("role").asText().equals("tool"))
        .extracting(m -> m.get("content").asText()).containsExactly(CHARGED);
  }

  /** The audit entries of the engine's {@code action} on the run. */
  private static List<JsonNode> engineAudit(Http api, String runId, String action) {
    List<JsonNode> entries = new ArrayList<>();
    api.get("/api/audit?limit=200&resource_id=" + runId).json().get("data").forEach(e -> {
      if (e.get("actor").asText().equals("engine") && e.get("action").asText().equals(action)) {
        entries.add(e);
      }
    });
    return entries;
  }

  private static void assertNoStepLeftStarted(RunProbe probe, String runId) {
    assertThat(probe.steps(runId)).as("the run's steps")
        .allSatisfy(s -> assertThat(s.get("status").asText()).as("step %s", s).isNotEqualTo("started"));
  }

  /**
   * Makes the database refuse connections for {@code outage} and ends those it has, as a
   * database failover or restart does; the cluster itself (and the test's own connection to its
   * maintenance database) stays up.
   */
  private static void refuseConnections(String databaseName, Duration outage) throws SQLException {
    try (Connection admin = TestPostgres.adminConnection(); Statement st = admin.createStatement()) {
      st.execute("ALTER DATABASE " + databaseName + " ALLOW_CONNECTIONS false");
      try {
        st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + databaseName + "'");
        AgentSetup.sleep(outage.toMillis());
      } finally {
        st.execute("ALTER DATABASE " + databaseName + " ALLOW_CONNECTIONS true");
      }
    }
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }
}
