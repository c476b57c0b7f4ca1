package io.aryabhatta.callbacks;

import static io.aryabhatta.testing.FakeModelServer.text;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server killed with {@code kill -9} while its callback's receiver has not answered: the
 * restarted server, once the dead one's claim expires, records that attempt as interrupted and
 * delivers again, with the same delivery id, once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CallbackCrashProcessTest {
  private static final Duration SETTLE = Duration.ofSeconds(40);

  @Test
  void a_callback_in_flight_when_the_server_is_killed_is_delivered_once_after_the_restart() throws Exception {
    try (FakeModelServer model = FakeModelServer.start();
        ToolTarget receiver = ToolTarget.start().delay(Duration.ofSeconds(60));
        // A 9-second lease: an attempt may take 3 s, long enough to be killed during it.
        ServerProcess server = ServerProcess.start("callback-crash", TestPostgres.freshDatabase(),
            Map.of("ARYABHATTA_LEASE_SECONDS", "9"))) {
      model.respondWith(request -> text("Done."));
      Http api = server.admin();
      AgentSetup setup = new AgentSetup(api, model);
      String agent = setup.agent(List.of(), Map.of());
      Http.Response created = api.post("/api/agents/" + agent + "/runs",
          Map.of("input", "Hi", "callback_url", receiver.url("/hook")));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);
      String runId = created.json().get("id").asText();
      RunProbe.await(() -> receiver.calls().size() == 1 ? true : null, SETTLE, () -> "the callback was not sent");

      server.kill();
      receiver.delay(Duration.ZERO);
      server.restart();

      JsonNode delivery = RunProbe.await(() -> {
        JsonNode d = api.get("/api/runs/" + runId + "/callback").json();
        return d.path("status").asText().equals("delivered") ? d : null;
      }, SETTLE, () -> "not delivered: " + api.get("/api/runs/" + runId + "/callback"));

      assertThat(delivery.get("attempt_count").asInt()).isEqualTo(2);
      JsonNode interrupted = delivery.at("/attempts/0");
      assertThat(interrupted.get("status_code").isNull()).isTrue();
      assertThat(interrupted.get("error").asText()).startsWith("interrupted");
      assertThat(delivery.at("/attempts/1/status_code").asInt()).isEqualTo(200);
      AgentSetup.sleep(1_500);
      List<ToolTarget.Call> calls = receiver.calls();
      assertThat(calls).hasSize(2);
      assertThat(calls).extracting(c -> c.header("X-Aryabhatta-Delivery")).containsOnly(delivery.get("id").asText());
      assertThat(Http.JSON.readTree(calls.getLast().body()).get("status").asText()).isEqualTo("completed");
    }
  }
}
