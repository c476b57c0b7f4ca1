package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.call;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCalls;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.RunProbe;
import io.aryabhatta.testing.ServerProcess;
import io.aryabhatta.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** kill -9 while a parent waits for its two children: each child is created once, and the parent completes. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SubAgentsCrashProcessTest {
  private static final Duration SETTLE = Duration.ofSeconds(60);

  @Test
  void a_parent_with_two_children_killed_mid_child_creates_each_child_once_and_completes() throws Exception {
    String database = TestPostgres.freshDatabase();
    AtomicBoolean slow = new AtomicBoolean(true);
    AtomicInteger childRequests = new AtomicInteger();
    try (FakeModelServer model = FakeModelServer.start();
        ServerProcess server = ServerProcess.start("subagents-crash", database, Map.of())) {
      model.respondWith(request -> {
        String system = request.messages().get(0).path("content").asText();
        JsonNode messages = request.messages();
        boolean answered = messages.get(messages.size() - 1).path("role").asText().equals("tool");
        if (system.contains("lead")) {
          return answered ? text("Both answered.")
              : toolCalls(call("alpha-child", "{\"input\":\"one\"}"), call("beta-child", "{\"input\":\"two\"}"));
        }
        childRequests.incrementAndGet();
        // A child's model call is in flight when the server dies.
        return slow.get() ? text("late").withDelay(Duration.ofSeconds(60)) : text(system + " done");
      });
      Http api = server.admin();
      AgentSetup setup = new AgentSetup(api, model);
      for (String name : List.of("alpha-child", "beta-child")) {
        var r = api.post("/api/agents", Map.of("name", name, "system_prompt", "You are " + name + ".",
            "model", Map.of("provider", "fake", "name", FakeModelServer.MODEL)));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
      }
      String lead = setup.agent(List.of(), Map.of("name", "lead", "system_prompt", "You are the lead.",
          "agents", List.of("alpha-child", "beta-child")));
      RunProbe probe = new RunProbe(api);
      String runId = probe.start(lead, "go");
      RunProbe.await(() -> childRequests.get() >= 1 ? true : null, SETTLE, () -> "no child called its model");

      server.kill();
      slow.set(false);
      server.restart();

      JsonNode run = probe.awaitStatus(runId, "completed", SETTLE);
      assertThat(run.get("output").asText()).isEqualTo("Both answered.");
      JsonNode children = api.get("/api/runs/" + runId + "/children").json().get("data");
      assertThat(children).hasSize(2);
      assertThat(children).allSatisfy(c -> assertThat(c.get("status").asText()).isEqualTo("completed"));
      assertThat(children.get(0).get("parent_step").asInt()).isEqualTo(1);
      assertThat(children.get(1).get("parent_step").asInt()).isEqualTo(2);
    }
  }
}
