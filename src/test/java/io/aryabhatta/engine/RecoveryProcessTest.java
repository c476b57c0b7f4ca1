package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.RunProbe;
import io.aryabhatta.testing.ServerProcess;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.ToolTarget;
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
 * What a server restarted after {@code kill -9} decides about a non-idempotent call that was in
 * flight: the outcome stays unknown whatever a person then does with the run (cancel, reject), and
 * the decision follows the journal, not the tool's definition as edited since. Real server
 * processes on one PostgreSQL of the test JVM, a 2-second lease.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RecoveryProcessTest {
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final Duration HANG = Duration.ofSeconds(60);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private String database;
  private FakeModelServer model;
  private final AtomicInteger modelRequests = new AtomicInteger();

  @BeforeEach
  void freshWorld() {
    database = TestPostgres.freshDatabase();
    model = track(FakeModelServer.start());
    // The run's first model request asks for the tool; every later one is answered with text.
    model.respondWith(request -> modelRequests.incrementAndGet() == 1
        ? toolCall("charge", "{\"q\":\"order-1\"}") : text("The charge is settled."));
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  // ---- 1: a person's answer to an unknown outcome does not make it known ----

  @Test
  void cancelling_a_run_whose_call_outcome_is_unknown_keeps_the_call_unknown_not_unexecuted() {
    ToolTarget payments = track(ToolTarget.start().delay(HANG));
    World world = crashDuringCharge("unknown-cancel", payments, Map.of("idempotent", false));
    String callId = world.awaitUnknownOutcome();

    Http.Response cancel = world.api().post("/api/runs/" + world.runId() + "/cancel", Map.of());

    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    JsonNode run = world.probe().awaitSettled(world.runId(), SETTLE);
    assertThat(run.get("status").asText()).isEqualTo("cancelled");
    JsonNode tool = world.probe().steps(world.runId()).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("unknown_outcome");
    String message = toolMessage(world.probe().messages(run.get("conversation_id").asText()), callId);
    assertThat(message).contains("Outcome unknown").contains("may have been executed").doesNotContain("Not executed");
    assertThat(payments.calls()).hasSize(1);
  }

  @Test
  void rejecting_a_call_whose_outcome_is_unknown_tells_the_model_it_may_have_been_executed() {
    ToolTarget payments = track(ToolTarget.start().delay(HANG));
    World world = crashDuringCharge("unknown-reject", payments, Map.of("idempotent", false));
    String callId = world.awaitUnknownOutcome();

    Http.Response reject = world.api().post("/api/runs/" + world.runId() + "/approvals", Map.of("decisions",
        List.of(Map.of("tool_call_id", callId, "approve", false, "reason", "checked nothing"))));

    assertThat(reject.status()).as(reject.toString()).isEqualTo(200);
    JsonNode run = world.probe().awaitSettled(world.runId(), SETTLE);
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("completed");
    JsonNode tool = world.probe().steps(world.runId()).get(1);
    assertThat(tool.get("status").asText()).as("tool step %s", tool).isEqualTo("unknown_outcome");
    String told = toolMessage(model.lastRequest().messages(), callId);
    assertThat(told).as("the tool message in the model's next request")
        .contains("may have been executed").doesNotContain("The user rejected this tool call");
    String stored = toolMessage(world.probe().messages(run.get("conversation_id").asText()), callId);
    assertThat(stored).as("the tool message in the conversation")
        .contains("may have been executed").doesNotContain("The user rejected this tool call");
    assertThat(payments.calls()).hasSize(1);
  }

  // ---- 7: recovery decides from the journal, not from today's tool definition ----

  @Test
  void a_call_started_as_not_idempotent_is_not_repeated_after_the_tool_is_edited_to_idempotent() {
    ToolTarget payments = track(ToolTarget.start().delay(HANG));
    World world = startCharge("edited-idempotent", payments, Map.of("idempotent", false));

    Http.Response patch = world.api().patch("/api/tools/" + world.toolId(), Map.of("idempotent", true));
    assertThat(patch.status()).as(patch.toString()).isEqualTo(200);
    world.crash(payments);

    JsonNode run = world.probe().awaitSettled(world.runId(), SETTLE);
    assertThat(run.get("status").asText()).as("run %s, target calls %s", run, payments.calls())
        .isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    assertThat(payments.calls()).hasSize(1);
  }

  @Test
  void a_call_in_flight_is_not_sent_to_the_url_its_tool_was_edited_to() {
    ToolTarget before = track(ToolTarget.start().delay(HANG));
    ToolTarget after = track(ToolTarget.start());
    World world = startCharge("edited-url", before, Map.of("idempotent", true));

    Http.Response patch = world.api().patch("/api/tools/" + world.toolId(),
        Map.of("http", Map.of("url", after.url("/charge"))));
    assertThat(patch.status()).as(patch.toString()).isEqualTo(200);
    world.crash(before);

    JsonNode run = world.probe().awaitSettled(world.runId(), SETTLE);
    assertThat(after.calls()).as("calls at the URL the tool was edited to, run %s", run).isEmpty();
    assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("requires_action");
    assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    assertThat(before.calls()).hasSize(1);
  }

  // ---- helpers ----

  /** A server, a run of an agent with the tool {@code charge}, and that run's call in flight at {@code target}. */
  private record World(ServerProcess server, Http api, RunProbe probe, String toolId, String runId) {
    /** kill -9 with the call in flight, then the same server again; the target answers at once from now on. */
    void crash(ToolTarget target) {
      server.kill();
      target.delay(Duration.ZERO);
      server.restart();
    }

    /** Waits for the run to need a person about the call; returns the call's id. */
    String awaitUnknownOutcome() {
      JsonNode run = probe.awaitSettled(runId, SETTLE);
      assertThat(run.get("status").asText()).as("run %s", run).isEqualTo("requires_action");
      assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
      return run.at("/required_action/tool_calls/0/id").asText();
    }
  }

  private World startCharge(String name, ToolTarget target, Map<String, Object> toolSettings) {
    ServerProcess server = track(ServerProcess.start(name, database, Map.of()));
    Http api = server.admin();
    AgentSetup setup = new AgentSetup(api, model);
    String toolId = setup.httpTool("charge", "POST", target.url("/charge"), toolSettings);
    String agent = setup.agent(List.of("charge"), Map.of());
    RunProbe probe = new RunProbe(api);
    String runId = probe.start(agent, "charge order-1");
    RunProbe.await(() -> target.calls().size() == 1 ? true : null, SETTLE, () -> "the tool was not called");
    return new World(server, api, probe, toolId, runId);
  }

  private World crashDuringCharge(String name, ToolTarget target, Map<String, Object> toolSettings) {
    World world = startCharge(name, target, toolSettings);
    world.crash(target);
    return world;
  }

  /** The content of the tool message answering {@code callId} among {@code messages}. */
  private static String toolMessage(Iterable<JsonNode> messages, String callId) {
    for (JsonNode m : messages) {
      if (m.path("role").asText().equals("tool") && m.path("tool_call_id").asText().equals(callId)) {
        return m.path("content").asText();
      }
    }
    throw new AssertionError("no tool message for " + callId + " in " + messages);
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }
}
