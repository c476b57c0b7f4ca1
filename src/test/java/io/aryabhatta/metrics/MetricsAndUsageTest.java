package io.aryabhatta.metrics;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.TestServer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MetricsAndUsageTest {
  static FakeModelServer fake;
  static TestServer server;
  static AgentSetup setup;
  static String agent;
  static JsonNode run;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_MODEL_PRICES",
        "{\"" + FakeModelServer.MODEL + "\": {\"prompt_per_million\": 1000, \"completion_per_million\": 2000}}"));
    setup = new AgentSetup(server.admin, fake);
    agent = setup.agent(List.of("calculator"), Map.of());
    fake.enqueue(toolCall("calculator", "{\"expression\":\"6*7\"}").withUsage(10, 5), text("42").withUsage(20, 2));
    run = server.admin.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "6*7?")).json();
    assertThat(run.get("status").asText()).isEqualTo("completed");
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  /** Parses the Prometheus text format into "name{labels}" → value. */
  private static Map<String, Double> scrape() {
    var r = server.anonymous().get("/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/plain");
    Map<String, Double> samples = new HashMap<>();
    for (String line : r.text().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }

  private static double sum(Map<String, Double> samples, String prefix, String... labels) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .filter(e -> List.of(labels).stream().allMatch(l -> e.getKey().contains(l)))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  @Test
  void metrics_count_requests_by_route_template_runs_by_status_and_pool_usage() {
    Map<String, Double> samples = scrape();
    assertThat(sum(samples, "aryabhatta_http_requests_seconds_count", "route=\"/api/agents/{id}/runs\"",
        "status=\"200\"")).isGreaterThanOrEqualTo(1);
    assertThat(samples.keySet()).noneMatch(k -> k.contains(agent));
    assertThat(sum(samples, "aryabhatta_runs{", "status=\"completed\"")).isGreaterThanOrEqualTo(1);
    assertThat(samples).containsKey("aryabhatta_run_queue_depth");
    assertThat(samples).containsKey("aryabhatta_leases_held");
    assertThat(sum(samples, "hikaricp_connections_max")).isPositive();
    assertThat(sum(samples, "aryabhatta_model_call_seconds_count", "provider=\"fake\"", "outcome=\"ok\""))
        .isGreaterThanOrEqualTo(2);
    assertThat(sum(samples, "aryabhatta_model_tokens_total", "kind=\"prompt\"")).isGreaterThanOrEqualTo(30);
    assertThat(sum(samples, "aryabhatta_tool_call_seconds_count", "tool=\"calculator\"", "outcome=\"ok\""))
        .isGreaterThanOrEqualTo(1);
    assertThat(sum(samples, "aryabhatta_step_seconds_count", "type=\"tool_call\"")).isGreaterThanOrEqualTo(1);
    assertThat(sum(samples, "jvm_memory_used_bytes")).isPositive();
  }

  @Test
  void usage_sums_model_tokens_by_agent_and_prices_them() {
    JsonNode rows = server.admin.get("/api/usage?group_by=agent").json().get("data");
    JsonNode row = null;
    for (JsonNode r : rows) {
      if (r.get("key").asText().equals(agent)) {
        row = r;
      }
    }
    assertThat(row).isNotNull();
    assertThat(row.get("runs").asLong()).isEqualTo(1);
    assertThat(row.get("model_calls").asLong()).isEqualTo(2);
    assertThat(row.get("prompt_tokens").asLong()).isEqualTo(30);
    assertThat(row.get("completion_tokens").asLong()).isEqualTo(7);
    assertThat(row.get("cost").asDouble()).isCloseTo((30 * 1000 + 7 * 2000) / 1e6, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void usage_by_run_matches_the_run_and_bad_groups_are_422() {
    JsonNode rows = server.admin.get("/api/usage?group_by=run").json().get("data");
    assertThat(rows).anySatisfy(r -> {
      assertThat(r.get("key").asText()).isEqualTo(run.get("id").asText());
      assertThat(r.get("total_tokens").asLong()).isEqualTo(run.at("/usage/total_tokens").asLong());
    });
    assertThat(server.admin.get("/api/usage?group_by=planet").status()).isEqualTo(422);
    assertThat(server.admin.get("/api/usage?since=yesterday").status()).isEqualTo(422);
    JsonNode days = server.admin.get("/api/usage?group_by=day").json().get("data");
    assertThat(days.get(0).get("key").asText()).matches("\\d{4}-\\d{2}-\\d{2}");
  }
}
