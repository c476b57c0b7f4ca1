package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.FakeModelServer.ReceivedRequest;
import io.aryabhatta.testing.FakeModelServer.Reply;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.RunProbe;
import io.aryabhatta.testing.ServerProcess;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.ToolTarget;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Durability with real processes and real signals: servers run as separate JVMs on one shared
 * PostgreSQL (in this JVM, so it survives their deaths), with a 2-second lease; the model and the
 * HTTP tools are real servers in this JVM that count what they receive.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DurableRunsProcessTest {
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final Duration HANG = Duration.ofSeconds(60);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private String database;
  private FakeModelServer model;
  /** Chat requests received per user input (the first message after the system prompt). */
  private final Map<String, AtomicInteger> requestsByInput = new ConcurrentHashMap<>();

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

  @Test
  void a_kill_during_tool_calls_never_repeats_a_side_effect_unless_the_tool_is_idempotent() {
    ToolTarget payments = track(ToolTarget.start().delay(HANG));
    ToolTarget lookups = track(ToolTarget.start().delay(HANG));
    ServerProcess server = track(ServerProcess.start("tool-kill", database, Map.of()));
    Http api = server.admin();
    AgentSetup setup = new AgentSetup(api, model);
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
    setup.httpTool("lookup", "GET", lookups.url("/orders/{q}"), Map.of("idempotent", true));
    String agent = setup.agent(List.of("charge", "lookup"), Map.of());
    model.respondWith(byInput(input -> firstTurn(input) ? toolCall(input.split(" ")[0], "{\"q\":\"" + input + "\"}")
        : text("done: " + input)));
    RunProbe probe = new RunProbe(api);
    String settledByOutput = probe.start(agent, "charge settle-by-output");
    String retriedByApproval = probe.start(agent, "charge retry-by-approval");
    String idempotent = probe.start(agent, "lookup auto-retry");
    RunProbe.await(() -> payments.calls().size() == 2 && lookups.calls().size() == 1 ? true : null, SETTLE,
        () -> "tools were not all called: " + payments.calls() + lookups.calls());

    server.kill();
    payments.delay(Duration.ZERO);
    lookups.delay(Duration.ZERO);
    server.restart();

    // Not idempotent: the outcome is unknown, and nobody calls the tool again on their own.
    for (String runId : List.of(settledByOutput, retriedByApproval)) {
      JsonNode run = probe.awaitStatus(runId, "requires_action", SETTLE);
      assertThat(run.at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");
    }
    assertThat(payments.calls()).hasSize(2);

    String firstCall = probe.run(settledByOutput).at("/required_action/tool_calls/0/id").asText();
    assertThat(api.post("/api/runs/" + settledByOutput + "/tool_outputs", Map.of("tool_outputs",
        List.of(Map.of("tool_call_id", firstCall, "output", "charged (confirmed by hand)")))).status()).isEqualTo(200);
    String secondCall = probe.run(retriedByApproval).at("/required_action/tool_calls/0/id").asText();
    assertThat(api.post("/api/runs/" + retriedByApproval + "/approvals", Map.of("decisions",
        List.of(Map.of("tool_call_id", secondCall, "approve", true)))).status()).isEqualTo(200);

    for (String runId : List.of(settledByOutput, retriedByApproval, idempotent)) {
      assertThat(probe.awaitStatus(runId, "completed", SETTLE).get("output").asText()).startsWith("done: ");
      assertJournaledOnce(probe, runId);
    }
    // The settled call ran once; the approved retry and the idempotent re-execution carried the
    // same key as their first execution.
    assertThat(keysOf(payments)).containsExactlyInAnyOrder(toolKey(probe, settledByOutput),
        toolKey(probe, retriedByApproval), toolKey(probe, retriedByApproval));
    assertThat(keysOf(lookups)).containsExactly(toolKey(probe, idempotent), toolKey(probe, idempotent));
    assertThat(probe.steps(settledByOutput).get(1).get("result").asText()).isEqualTo("charged (confirmed by hand)");
    JsonNode attempts = probe.steps(idempotent).get(1).get("attempts");
    assertThat(attempts).hasSize(2);
    assertThat(attempts.get(0).get("error").asText()).contains("interrupted");
    assertThat(attempts.get(1).get("status_code").asInt()).isEqualTo(200);
  }

  @Test
  void a_kill_during_a_model_call_or_a_streamed_answer_repeats_the_call_in_the_same_step() {
    ServerProcess server = track(ServerProcess.start("model-kill", database, Map.of()));
    Http api = server.admin();
    AgentSetup setup = new AgentSetup(api, model);
    String agent = setup.agent(List.of(), Map.of());
    String longAnswer = "This answer is streamed slowly, piece by piece, and will be cut by a crash. ".repeat(3);
    model.respondWith(byInput(input -> {
      if (!firstTurn(input)) {
        return text("final answer for " + input);
      }
      return input.equals("waiting") ? text("never delivered").withDelay(HANG)
          : text(longAnswer).withChunkDelay(Duration.ofMillis(150));
    }));
    RunProbe probe = new RunProbe(api);
    String waiting = probe.start(agent, "waiting");
    String streaming = probe.start(agent, "streaming");
    RunProbe.await(() -> requests("waiting") == 1 && probe.eventTypes(streaming).contains("message.delta") ? true
        : null, SETTLE, () -> "the model calls did not get under way");

    server.kill();
    server.restart();

    for (String runId : List.of(waiting, streaming)) {
      JsonNode run = probe.awaitStatus(runId, "completed", SETTLE);
      assertThat(run.get("output").asText()).startsWith("final answer for ");
      List<JsonNode> steps = probe.steps(runId);
      assertThat(steps).hasSize(1);
      assertThat(steps.get(0).get("status").asText()).isEqualTo("completed");
      assertThat(steps.get(0).at("/attempts/0/error").asText()).contains("interrupted");
      assertThat(probe.messages(run.get("conversation_id").asText())).extracting(m -> m.get("role").asText())
          .containsExactly("user", "assistant");
      List<String> events = probe.eventTypes(runId);
      assertThat(events.stream().filter("llm_call.started"::equals)).hasSize(2);
      assertThat(events.stream().filter("run.completed"::equals)).hasSize(1);
    }
    assertThat(requests("waiting")).isEqualTo(2);
    assertThat(requests("streaming")).isEqualTo(2);
  }

  @Test
  void when_one_of_two_servers_dies_the_other_finishes_its_runs_within_the_lease_timeout() {
    ServerProcess doomed = track(ServerProcess.start("two-nodes-a", database, Map.of()));
    Http apiA = doomed.admin();
    AgentSetup setup = new AgentSetup(apiA, model);
    String agent = setup.agent(List.of(), Map.of());
    model.respondWith(byInput(input -> firstTurn(input) ? text("lost").withDelay(HANG) : text("finished " + input)));
    RunProbe probeA = new RunProbe(apiA);
    List<String> runs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      runs.add(probeA.start(agent, "run " + i));
    }
    RunProbe.await(() -> model.requests().size() == 6 ? true : null, SETTLE, () -> "runs did not start on A");
    // B starts once A holds every run, so that each of them has to be taken over.
    ServerProcess survivor = track(ServerProcess.start("two-nodes-b", database, Map.of()));
    RunProbe probeB = new RunProbe(survivor.admin());

    long killedAt = System.nanoTime();
    doomed.kill();
    for (String runId : runs) {
      probeB.awaitStatus(runId, "completed", SETTLE);
    }
    Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);

    System.out.println("[durability] 6 runs of a killed node finished on the other in " + takeover.toMillis() + " ms");
    assertThat(takeover).isLessThan(Duration.ofSeconds(6));
    for (String runId : runs) {
      assertJournaledOnce(probeB, runId);
    }
    assertThat(model.requests()).hasSize(12);
  }

  @Test
  void a_server_stopped_past_its_lease_writes_nothing_when_it_continues() {
    ToolTarget payments = track(ToolTarget.start());
    ServerProcess stalled = track(ServerProcess.start("stopped-a", database, Map.of()));
    AgentSetup setup = new AgentSetup(stalled.admin(), model);
    setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
    String agent = setup.agent(List.of("charge"), Map.of());
    // The stalled server's model call answers late with a call of its own: if it could still
    // write, that call would show in the journal, the conversation or at the payment target.
    model.respondWith(byInput(input -> switch (requests(input)) {
      case 1 -> toolCall("charge", "{\"q\":\"stale\"}").withDelay(Duration.ofSeconds(3));
      case 2 -> toolCall("charge", "{\"q\":\"fresh\"}");
      default -> text("charged once");
    }));
    String runId = new RunProbe(stalled.admin()).start(agent, "pay");
    RunProbe.await(() -> requests("pay") == 1 ? true : null, SETTLE, () -> "the model call did not start");

    stalled.pause();
    ServerProcess other = track(ServerProcess.start("stopped-b", database, Map.of()));
    RunProbe probe = new RunProbe(other.admin());
    probe.awaitStatus(runId, "completed", SETTLE);
    int eventsWhenCompleted = probe.events(runId).size();
    stalled.resume();
    RunProbe.await(() -> stalled.logTail(200).contains("lease lost") ? true : null, SETTLE,
        () -> "the resumed server never noticed it had lost the lease:\n" + stalled.logTail(40));
    AgentSetup.sleep(1000);

    assertThat(payments.calls()).extracting(ToolTarget.Call::body).containsExactly("{\"q\":\"fresh\"}");
    assertJournaledOnce(probe, runId);
    assertThat(probe.steps(runId).get(1).get("arguments").toString()).contains("fresh");
    assertThat(probe.events(runId)).hasSize(eventsWhenCompleted);
    assertThat(probe.run(runId).get("output").asText()).isEqualTo("charged once");
  }

  @Test
  void sigterm_lets_the_step_in_flight_commit_and_hands_the_run_over() {
    ToolTarget lookups = track(ToolTarget.start());
    ServerProcess server = track(ServerProcess.start("sigterm", database, Map.of()));
    AgentSetup setup = new AgentSetup(server.admin(), model);
    setup.httpTool("lookup", "GET", lookups.url("/orders/{q}"), Map.of("idempotent", false));
    String agent = setup.agent(List.of("lookup"), Map.of());
    model.respondWith(byInput(input -> requests(input) == 1
        ? toolCall("lookup", "{\"q\":\"42\"}").withDelay(Duration.ofMillis(1500)) : text("looked up")));
    RunProbe probe = new RunProbe(server.admin());
    String runId = probe.start(agent, "find order");
    RunProbe.await(() -> requests("find order") == 1 ? true : null, SETTLE, () -> "the model call did not start");

    server.terminate();

    // The model's answer was committed before the process exited; the tool was left for later.
    ServerProcess next = track(ServerProcess.start("sigterm-next", database, Map.of()));
    RunProbe nextProbe = new RunProbe(next.admin());
    nextProbe.awaitStatus(runId, "completed", SETTLE);
    assertThat(requests("find order")).isEqualTo(2);
    assertThat(lookups.calls()).hasSize(1);
    assertJournaledOnce(nextProbe, runId);
    assertThat(nextProbe.steps(runId).get(0).get("attempts")).hasSize(1);
  }

  @Test
  void sigterm_on_the_embedded_database_lets_the_step_in_flight_commit_before_postgres_stops() throws Exception {
    // One data folder for both processes, no external database: the server runs its own PostgreSQL.
    Map<String, String> embedded = Map.of("ARYABHATTA_DATA_DIR",
        Files.createTempDirectory("aryabhatta-embedded-sigterm").toString());
    ServerProcess server = stoppedGracefully(ServerProcess.start("sigterm-embedded", "", embedded));
    AgentSetup setup = new AgentSetup(server.admin(), model);
    String agent = setup.agent(List.of(), Map.of());
    model.respondWith(byInput(input -> text("answered").withDelay(Duration.ofMillis(1500))));
    RunProbe probe = new RunProbe(server.admin());
    String runId = probe.start(agent, "answer slowly");
    RunProbe.await(() -> requests("answer slowly") == 1 ? true : null, SETTLE, () -> "the model call did not start");

    server.terminate();

    // The answer arrived during the grace period and committed: the next start has nothing to redo.
    ServerProcess next = stoppedGracefully(ServerProcess.start("sigterm-embedded-next", "", embedded));
    RunProbe nextProbe = new RunProbe(next.admin());
    nextProbe.awaitStatus(runId, "completed", SETTLE);
    assertThat(requests("answer slowly")).isEqualTo(1);
    assertThat(nextProbe.steps(runId)).hasSize(1);
    String log = server.logTail(400);
    assertThat(log.substring(log.lastIndexOf("Starting Aryabhatta"))).doesNotContain("WARN", "ERROR");
  }

  // ---- helpers ----

  /** Stopped with SIGTERM after the test, so that the PostgreSQL it started stops with it. */
  private ServerProcess stoppedGracefully(ServerProcess server) {
    track(server);
    track((AutoCloseable) () -> {
      if (server.alive()) {
        server.terminate();
      }
    });
    return server;
  }

  /** A model that answers by the run's input; counts requests per input. */
  private Function<ReceivedRequest, Reply> byInput(Function<String, Reply> answer) {
    return request -> {
      String input = request.messages().get(1).path("content").asText();
      requestsByInput.computeIfAbsent(input, k -> new AtomicInteger()).incrementAndGet();
      return answer.apply(input);
    };
  }

  private int requests(String input) {
    AtomicInteger n = requestsByInput.get(input);
    return n == null ? 0 : n.get();
  }

  /** True while the run has had only its first model request. */
  private boolean firstTurn(String input) {
    return requests(input) == 1;
  }

  /** One model call, one tool call, one model call; one message each; nothing left open. */
  static void assertJournaledOnce(RunProbe probe, String runId) {
    JsonNode run = probe.run(runId);
    List<JsonNode> steps = probe.steps(runId);
    List<String> roles = probe.messages(run.get("conversation_id").asText()).stream()
        .map(m -> m.get("role").asText()).toList();
    if (steps.size() == 1) {
      assertThat(roles).containsExactly("user", "assistant");
    } else {
      assertThat(steps).extracting(s -> s.get("type").asText()).containsExactly("llm_call", "tool_call", "llm_call");
      assertThat(roles).containsExactly("user", "assistant", "tool", "assistant");
    }
    assertThat(steps).allSatisfy(s -> assertThat(s.get("status").asText()).isEqualTo("completed"));
    assertThat(probe.eventTypes(runId).stream().filter("run.completed"::equals)).hasSize(1);
  }

  private static String toolKey(RunProbe probe, String runId) {
    return probe.steps(runId).get(1).get("idempotency_key").asText();
  }

  private static List<String> keysOf(ToolTarget target) {
    return target.calls().stream().map(ToolTarget.Call::idempotencyKey).toList();
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }
}
