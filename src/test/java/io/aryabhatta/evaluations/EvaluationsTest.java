package io.aryabhatta.evaluations;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EvaluationsTest {
  static FakeModelServer fake;
  static TestServer server;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    // Answers by content, so cases may run in parallel.
    fake.respondWith(request -> {
      JsonNode last = request.messages().get(request.messages().size() - 1);
      if (last.path("role").asText().equals("tool")) {
        return FakeModelServer.text("The answer is " + last.path("content").asText());
      }
      if (last.path("content").asText().contains("2+2")) {
        return FakeModelServer.toolCall("calculator", "{\"expression\":\"2+2\"}");
      }
      return FakeModelServer.text("plain words, not JSON");
    });
    server = TestServer.start();
    setup = new AgentSetup(server.admin, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void evaluation_runs_every_case_and_reports_pass_and_fail_per_expectation() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    var created = server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of(
        "name", "adds with the calculator", "input", "What is 2+2?",
        "expect", Map.of("tool_called", "calculator",
            "tool_arguments", Map.of("type", "object", "required", List.of("expression"),
                "properties", Map.of("expression", Map.of("type", "string", "pattern", "2\\s*\\+\\s*2"))),
            "output_contains", "4", "output_matches", "answer is \\d+")));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of(
        "name", "answers in JSON", "input", "Give me JSON",
        "expect", Map.of("output_schema", Map.of("type", "object", "required", List.of("answer")))));
    server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of(
        "name", "uses the calculator for everything", "input", "Hello",
        "expect", Map.of("tool_called", "calculator")));

    var r = server.admin.post("/api/agents/" + agent + "/evaluations", Map.of("version", 1));

    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    JsonNode report = r.json();
    assertThat(report.get("agent_version").asInt()).isEqualTo(1);
    assertThat(report.get("passed").asInt()).isEqualTo(1);
    assertThat(report.get("failed").asInt()).isEqualTo(2);
    JsonNode cases = report.get("cases");
    assertThat(cases.get(0).get("passed").asBoolean()).isTrue();
    assertThat(cases.get(0).get("steps").asInt()).isEqualTo(3);
    assertThat(cases.get(0).get("total_tokens").asInt()).isPositive();
    assertThat(cases.get(1).get("failures").toString()).contains("not JSON");
    assertThat(cases.get(2).get("failures").toString()).contains("'calculator' was not called");
    assertThat(server.admin.get("/api/evaluations/" + report.get("id").asText()).json().get("passed").asInt())
        .isEqualTo(1);
    assertThat(server.admin.get("/api/agents/" + agent + "/evaluations").json().get("data")).hasSize(1);
  }

  @Test
  void invalid_cases_are_422_per_field_and_an_agent_without_cases_cannot_be_evaluated() {
    String agent = setup.agent(List.of(), Map.of());
    var bad = server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of(
        "name", "x", "input", "y", "expect", Map.of("output_matches", "([", "output_schema", Map.of("type", 5))));
    assertThat(bad.status()).isEqualTo(422);
    assertThat(bad.json().get("errors").toString()).contains("expect.output_matches").contains("expect.output_schema");
    var none = server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of("name", "x", "input", "y",
        "expect", Map.of()));
    assertThat(none.status()).isEqualTo(422);
    assertThat(server.admin.post("/api/agents/" + agent + "/evaluations", Map.of()).status()).isEqualTo(422);
    assertThat(server.admin.post("/api/agents/nope/evaluation_cases", Map.of("name", "x", "input", "y",
        "expect", Map.of("output_contains", "z"))).status()).isEqualTo(404);
  }

  @Test
  void a_case_with_an_empty_prompt_variable_is_422_as_its_run_would_be() {
    String agent = setup.agent(List.of(), Map.of("system_prompt", "You help {{customer}}."));
    var empty = server.admin.post("/api/agents/" + agent + "/evaluation_cases", Map.of("name", "blank", "input", "hi",
        "variables", Map.of("customer", " "), "expect", Map.of("output_contains", "z")));
    assertThat(empty.status()).isEqualTo(422);
    assertThat(empty.json().at("/errors/0/field").asText()).isEqualTo("variables.customer");
  }
}
