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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The crash loop: 50 runs, each a model call, a tool call (half of them to a non-idempotent
 * payment endpoint, half to an idempotent lookup) and a streamed final answer, while the only
 * server is killed with {@code kill -9} at random moments ten times and restarted each time.
 * Afterwards every run must have ended, nothing may be duplicated, and no non-idempotent call
 * may have been executed twice. The figures go to {@code target/crash-loop-figures.txt}.
 */
class CrashLoopProcessTest {
  private static final int RUNS = 50;
  private static final int KILLS = 10;
  private static final Set<String> ENDED = Set.of("completed", "failed", "cancelled");

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void fifty_runs_survive_ten_kills_without_losing_or_repeating_anything() throws IOException {
    long seed = Long.getLong("crashLoopSeed", System.nanoTime());
    Random random = new Random(seed);
    try (FakeModelServer model = FakeModelServer.start();
        ToolTarget payments = ToolTarget.start().delay(Duration.ofMillis(400));
        ToolTarget lookups = ToolTarget.start().delay(Duration.ofMillis(150));
        ServerProcess server = ServerProcess.start("crash-loop", TestPostgres.freshDatabase(), Map.of())) {
      Http api = server.admin();
      AgentSetup setup = new AgentSetup(api, model);
      setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
      setup.httpTool("lookup", "GET", lookups.url("/orders/{q}"), Map.of("idempotent", true));
      String agent = setup.agent(List.of("charge", "lookup"), Map.of());
      model.respondWith(request -> modelTurn(request.messages()));
      RunProbe probe = new RunProbe(api);

      List<String> runs = new ArrayList<>();
      Set<String> settledByHand = new LinkedHashSet<>();
      long started = System.nanoTime();
      for (int kill = 1; kill <= KILLS; kill++) {
        if (kill > 1) {
          server.restart();
        }
        settleUnknownOutcomes(api, probe, runs, settledByHand);
        for (int i = 0; i < RUNS / KILLS; i++) {
          int n = runs.size();
          runs.add(probe.start(agent, (n % 2 == 0 ? "charge" : "lookup") + " run-" + n));
        }
        AgentSetup.sleep(200 + random.nextInt(1300));
        server.kill();
      }
      server.restart();
      RunProbe.await(() -> settleUnknownOutcomes(api, probe, runs, settledByHand) ? true : null,
          Duration.ofSeconds(60), () -> "not every run ended: " + statuses(probe, runs));
      Duration total = Duration.ofNanos(System.nanoTime() - started);

      Figures figures = Figures.of(probe, runs, payments, lookups, settledByHand.size(), total, seed);
      System.out.println(figures.report());
      Files.writeString(Path.of("target", "crash-loop-figures.txt"), figures.report());

      assertThat(figures.lost).as(figures.report()).isZero();
      assertThat(figures.duplicatedSteps).as(figures.report()).isZero();
      assertThat(figures.duplicatedMessages).as(figures.report()).isZero();
      assertThat(figures.nonIdempotentExecutedTwice).as(figures.report()).isZero();
      assertThat(figures.foreignKeys).as(figures.report()).isZero();
      assertThat(figures.completed).as(figures.report()).isEqualTo(RUNS);
    }
  }

  /** First turn: call the run's tool after a short random delay; second: a streamed final answer. */
  private static FakeModelServer.Reply modelTurn(JsonNode messages) {
    String input = messages.get(1).path("content").asText();
    JsonNode last = messages.get(messages.size() - 1);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    if (last.path("role").asText().equals("user")) {
      return toolCall(input.split(" ")[0], "{\"q\":\"" + input.split(" ")[1] + "\"}")
          .withDelay(Duration.ofMillis(random.nextInt(300)));
    }
    return text("done with " + input + ", all settled.").withChunkDelay(Duration.ofMillis(20 + random.nextInt(30)));
  }

  /**
   * Answers every run waiting in {@code resolve_unknown_outcome} the way an operator would after
   * checking the payment system: with an output, never by executing again. Returns whether every
   * run has ended.
   */
  private static boolean settleUnknownOutcomes(Http api, RunProbe probe, List<String> runs, Set<String> settled) {
    boolean allEnded = true;
    for (String runId : runs) {
      JsonNode run = probe.run(runId);
      String status = run.get("status").asText();
      if (status.equals("requires_action")
          && run.at("/required_action/type").asText().equals("resolve_unknown_outcome")) {
        List<Map<String, String>> outputs = new ArrayList<>();
        run.at("/required_action/tool_calls").forEach(c -> outputs.add(
            Map.of("tool_call_id", c.get("id").asText(), "output", "settled by an operator")));
        api.post("/api/runs/" + runId + "/tool_outputs", Map.of("tool_outputs", outputs));
        settled.add(runId);
      }
      allEnded &= ENDED.contains(status);
    }
    return allEnded;
  }

  private static Map<String, Long> statuses(RunProbe probe, List<String> runs) {
    return runs.stream().collect(Collectors.groupingBy(
        r -> RunProbe.safely(() -> probe.status(r)) == null ? "unreachable" : probe.status(r), Collectors.counting()));
  }

  /** What the crash loop measured. */
  private record Figures(int runs, int kills, long completed, long lost, long duplicatedSteps,
      long duplicatedMessages, long duplicatedCompletions, int paymentCalls, long nonIdempotentExecutedTwice,
      int lookupCalls, long lookupReExecutions, long foreignKeys, int settledByHand, long modelCallsRepeated,
      Map<String, Long> statuses, Duration total, long seed) {

    static Figures of(RunProbe probe, List<String> runs, ToolTarget payments, ToolTarget lookups, int settledByHand,
        Duration total, long seed) {
      long duplicatedSteps = 0;
      long duplicatedMessages = 0;
      long duplicatedCompletions = 0;
      long modelCallsRepeated = 0;
      Map<String, String> keyOfRun = new HashMap<>();
      Map<String, Long> statuses = new LinkedHashMap<>();
      for (String runId : runs) {
        JsonNode run = probe.run(runId);
        statuses.merge(run.get("status").asText(), 1L, Long::sum);
        List<JsonNode> steps = probe.steps(runId);
        duplicatedSteps += Math.max(0, steps.size() - 3);
        duplicatedSteps += steps.stream().filter(s -> s.get("type").asText().equals("tool_call")).count() > 1 ? 1 : 0;
        for (JsonNode step : steps) {
          if (step.get("type").asText().equals("tool_call")) {
            keyOfRun.put(step.get("idempotency_key").asText(), runId);
          } else {
            for (JsonNode attempt : step.get("attempts")) {
              modelCallsRepeated += attempt.path("error").asText().startsWith("interrupted") ? 1 : 0;
            }
          }
        }
        duplicatedMessages += Math.max(0, probe.messages(run.get("conversation_id").asText()).size() - 4);
        duplicatedCompletions += Math.max(0, probe.eventTypes(runId).stream().filter("run.completed"::equals).count() - 1);
      }
      Map<String, Long> paymentsPerKey = perKey(payments);
      Map<String, Long> lookupsPerKey = perKey(lookups);
      long foreignKeys = paymentsPerKey.keySet().stream().filter(k -> !keyOfRun.containsKey(k)).count()
          + lookupsPerKey.keySet().stream().filter(k -> !keyOfRun.containsKey(k)).count();
      long completed = statuses.getOrDefault("completed", 0L);
      long ended = statuses.entrySet().stream().filter(e -> ENDED.contains(e.getKey()))
          .mapToLong(Map.Entry::getValue).sum();
      return new Figures(runs.size(), KILLS, completed, runs.size() - ended, duplicatedSteps,
          duplicatedMessages, duplicatedCompletions, payments.calls().size(),
          paymentsPerKey.values().stream().filter(n -> n > 1).count(), lookups.calls().size(),
          lookups.calls().size() - lookupsPerKey.size(), foreignKeys, settledByHand, modelCallsRepeated, statuses,
          total, seed);
    }

    private static Map<String, Long> perKey(ToolTarget target) {
      return target.calls().stream().collect(Collectors.groupingBy(ToolTarget.Call::idempotencyKey,
          Collectors.counting()));
    }

    String report() {
      return """
          crash loop (seed %d): %d runs, %d kills (kill -9), %.1f s
            ended: %s; lost: %d
            duplicated steps: %d, duplicated messages: %d, duplicated run.completed events: %d
            non-idempotent tool: %d executions for %d runs, executed twice: %d, outcomes settled by hand: %d
            idempotent tool: %d executions for %d runs, re-executed after a kill with the same key: %d
            calls with a key that is not their step's: %d
            model calls repeated after a kill (same step): %d
          """.formatted(seed, runs, kills, total.toMillis() / 1000.0, statuses, lost, duplicatedSteps,
          duplicatedMessages, duplicatedCompletions, paymentCalls, runs / 2, nonIdempotentExecutedTwice,
          settledByHand, lookupCalls, runs / 2, lookupReExecutions, foreignKeys, modelCallsRepeated);
    }
  }
}
