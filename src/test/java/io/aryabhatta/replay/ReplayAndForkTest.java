package io.aryabhatta.replay;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static io.aryabhatta.testing.ProblemAssert.assertProblem;
import static io.aryabhatta.testing.ProblemAssert.fields;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ReplayAndForkTest {
  static FakeModelServer fake;
  static ToolTarget target;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    target = ToolTarget.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
    target.close();
  }

  /** A completed run of three steps: the model calls the calculator, the tool answers, the model answers "4". */
  private static JsonNode calculatorRun(String agentId) {
    fake.enqueue(toolCall("calculator", "{\"expression\":\"2+2\"}"), text("4"));
    var r = api.post("/api/agents/" + agentId + "/runs?wait=true", Map.of("input", "What is 2+2?"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().get("status").asText()).isEqualTo("completed");
    return r.json();
  }

  private static JsonNode replay(String runId, String agentVersion) {
    var r = api.post("/api/runs/" + runId + "/replay", Map.of("agent_version", agentVersion));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  private static JsonNode steps(String runId) {
    return api.get("/api/runs/" + runId + "/steps").json().get("data");
  }

  private static List<String> differences(JsonNode report) {
    List<String> all = new ArrayList<>();
    report.get("differences").forEach(d -> all.add(d.asText()));
    report.get("steps").forEach(s -> s.get("differences").forEach(d -> all.add(s.get("index") + ": " + d.asText())));
    return all;
  }

  @Test
  void unchanged_agent_replays_deterministically_without_calling_the_model() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    String runId = calculatorRun(agent).get("id").asText();
    int requestsBefore = fake.requests().size();

    JsonNode latest = replay(runId, "latest");
    JsonNode pinned = replay(runId, "pinned");
    var byDefault = api.send("POST", "/api/runs/" + runId + "/replay", null, Map.of());

    assertThat(fake.requests()).hasSize(requestsBefore);
    assertThat(differences(latest)).isEmpty();
    assertThat(latest.get("deterministic").asBoolean()).isTrue();
    assertThat(latest.get("run_id").asText()).isEqualTo(runId);
    assertThat(latest.get("agent_version_used").asInt()).isEqualTo(1);
    assertThat(latest.get("steps")).extracting(s -> s.get("type").asText())
        .containsExactly("llm_call", "tool_call", "llm_call");
    assertThat(latest.get("steps")).allSatisfy(s -> assertThat(s.get("same").asBoolean()).isTrue());
    assertThat(pinned.get("deterministic").asBoolean()).as(pinned.toString()).isTrue();
    assertThat(byDefault.status()).isEqualTo(200);
    assertThat(byDefault.json().get("agent_version").asText()).isEqualTo("latest");
    JsonNode audit = api.get("/api/audit?resource_id=" + runId + "&action=run.replayed").json().get("data");
    assertThat(audit).hasSize(3);
  }

  @Test
  void prompt_change_shows_in_a_replay_with_the_latest_version_but_not_with_the_pinned_one() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    String runId = calculatorRun(agent).get("id").asText();
    var patched = api.patch("/api/agents/" + agent, Map.of("system_prompt", "You answer in French."));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);

    JsonNode latest = replay(runId, "latest");
    JsonNode pinned = replay(runId, "pinned");

    assertThat(latest.get("deterministic").asBoolean()).isFalse();
    assertThat(latest.get("agent_version_used").asInt()).isEqualTo(2);
    JsonNode first = latest.at("/steps/0");
    assertThat(first.get("same").asBoolean()).isFalse();
    assertThat(first.get("differences").get(0).asText())
        .startsWith("request.messages[0].content differs")
        .contains("You are a test agent.").contains("You answer in French.");
    assertThat(latest.at("/steps/1/same").asBoolean()).as("the tool decision is unchanged").isTrue();
    assertThat(latest.at("/steps/2/same").asBoolean()).isFalse();
    assertThat(pinned.get("deterministic").asBoolean()).as(pinned.toString()).isTrue();
    assertThat(pinned.get("agent_version_used").asInt()).isEqualTo(1);
  }

  @Test
  void tool_schema_change_that_invalidates_recorded_arguments_is_reported() {
    String toolId = setup.httpTool("lookup_order", "GET", target.url("/orders/{q}"), Map.of());
    String agent = setup.agent(List.of("lookup_order"), Map.of());
    target.answer(200, "{\"order\":\"shipped\"}");
    fake.enqueue(toolCall("lookup_order", "{\"q\":\"A1\"}"), text("Shipped."));
    var run = api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "Where is order A1?")).json();
    assertThat(run.get("status").asText()).isEqualTo("completed");
    var patched = api.patch("/api/tools/" + toolId, Map.of("parameters", Map.of("type", "object",
        "properties", Map.of("q", Map.of("type", "string"), "id", Map.of("type", "string")),
        "required", List.of("q", "id"))));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);

    JsonNode report = replay(run.get("id").asText(), "pinned");

    assertThat(report.get("deterministic").asBoolean()).isFalse();
    JsonNode toolStep = report.at("/steps/1");
    assertThat(toolStep.get("type").asText()).isEqualTo("tool_call");
    assertThat(toolStep.get("same").asBoolean()).isFalse();
    assertThat(toolStep.get("differences").get(0).asText())
        .startsWith("tool lookup_order: arguments no longer valid: $")
        .contains("id")
        .contains("recorded: executed");
    // The tool spec sent to the model changed too.
    assertThat(report.at("/steps/0/differences").toString()).contains("request.tools[0].function.parameters");
  }

  @Test
  void fork_with_a_new_system_prompt_continues_the_journal_live() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    JsonNode original = calculatorRun(agent);
    String originalId = original.get("id").asText();
    JsonNode originalSteps = steps(originalId);
    int requestsBefore = fake.requests().size();
    fake.enqueue(text("Four."));

    var r = api.post("/api/runs/" + originalId + "/fork",
        Map.of("from_step", 2, "agent_overrides", Map.of("system_prompt", "Answer in words.")));

    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    String forkId = r.json().get("id").asText();
    assertThat(forkId).isNotEqualTo(originalId);
    assertThat(r.json().get("conversation_id").asText()).isNotEqualTo(original.get("conversation_id").asText());
    JsonNode fork = setup.awaitSettled(forkId);
    assertThat(fork.get("status").asText()).as(fork.toString()).isEqualTo("completed");
    assertThat(fork.get("output").asText()).isEqualTo("Four.");
    assertThat(fork.get("agent_version").asInt()).isEqualTo(1);

    // One new model call, with the new prompt and the earlier tool call and result.
    assertThat(fake.requests()).hasSize(requestsBefore + 1);
    JsonNode sent = fake.lastRequest().messages();
    assertThat(sent).extracting(m -> m.get("role").asText()).containsExactly("system", "user", "assistant", "tool");
    assertThat(sent.at("/0/content").asText()).isEqualTo("Answer in words.");
    assertThat(sent.at("/2/tool_calls/0/function/name").asText()).isEqualTo("calculator");
    assertThat(sent.at("/3/content").asText()).isEqualTo("4");

    // The fork's journal: the copied steps, then its own.
    JsonNode forkSteps = steps(forkId);
    assertThat(forkSteps).hasSize(3);
    assertThat(forkSteps.at("/0/copied_from_run_id").asText()).isEqualTo(originalId);
    assertThat(forkSteps.at("/1/copied_from_run_id").asText()).isEqualTo(originalId);
    assertThat(forkSteps.at("/1/result").asText()).isEqualTo("4");
    assertThat(forkSteps.at("/0/request")).isEqualTo(originalSteps.at("/0/request"));
    assertThat(forkSteps.at("/2/copied_from_run_id").isNull()).isTrue();
    assertThat(forkSteps.at("/2/request/messages/0/content").asText()).isEqualTo("Answer in words.");
    JsonNode forkMessages = api.get("/api/conversations/" + fork.get("conversation_id").asText() + "/messages")
        .json().get("data");
    assertThat(forkMessages).extracting(m -> m.get("role").asText())
        .containsExactly("user", "assistant", "tool", "assistant");
    JsonNode usage = api.get("/api/usage?group_by=run&conversation_id=" + fork.get("conversation_id").asText())
        .json().get("data");
    assertThat(usage.at("/0/model_calls").asInt()).as("copied model calls were paid for by the original").isEqualTo(1);

    // The original run, its conversation and the agent are untouched.
    JsonNode after = api.get("/api/runs/" + originalId).json();
    assertThat(after.get("output").asText()).isEqualTo("4");
    assertThat(after.get("steps_count").asInt()).isEqualTo(original.get("steps_count").asInt());
    assertThat(steps(originalId)).isEqualTo(originalSteps);
    assertThat(api.get("/api/conversations/" + original.get("conversation_id").asText() + "/messages").json()
        .get("data")).hasSize(4);
    assertThat(api.get("/api/agents/" + agent).json().get("version").asInt()).isEqualTo(1);

    // The fork replays cleanly by its own configuration; the copied steps are history.
    JsonNode report = replay(forkId, "pinned");
    assertThat(report.get("deterministic").asBoolean()).as(report.toString()).isTrue();
    assertThat(report.at("/steps/0/copied_from_run_id").asText()).isEqualTo(originalId);
    JsonNode audit = api.get("/api/audit?resource_id=" + forkId + "&action=run.forked").json().get("data");
    assertThat(audit).hasSize(1);
    assertThat(audit.at("/0/details/forked_from_run_id").asText()).isEqualTo(originalId);
  }

  @Test
  void fork_model_override_applies_to_the_forked_run_only() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    String originalId = calculatorRun(agent).get("id").asText();
    fake.enqueue(text("4, warmly."));

    var r = api.post("/api/runs/" + originalId + "/fork",
        Map.of("from_step", 0, "agent_overrides", Map.of("model", Map.of("temperature", 1.5), "tools", List.of())));

    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    JsonNode fork = setup.awaitSettled(r.json().get("id").asText());
    assertThat(fork.get("status").asText()).isEqualTo("completed");
    JsonNode sent = fake.lastRequest().body();
    assertThat(sent.get("temperature").asDouble()).isEqualTo(1.5);
    assertThat(sent.has("tools")).isFalse();
    assertThat(sent.get("messages")).extracting(m -> m.get("role").asText()).containsExactly("system", "user");
    assertThat(steps(fork.get("id").asText())).hasSize(1);
  }

  @Test
  void fork_from_a_step_that_is_not_a_model_call_is_422_listing_the_valid_ones() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    String runId = calculatorRun(agent).get("id").asText();

    JsonNode toolStep = assertProblem(api.post("/api/runs/" + runId + "/fork", Map.of("from_step", 1)), 422);
    JsonNode missing = assertProblem(api.post("/api/runs/" + runId + "/fork", Map.of()), 422);
    JsonNode name = assertProblem(api.post("/api/runs/" + runId + "/fork",
        Map.of("from_step", 0, "agent_overrides", Map.of("name", "other"))), 422);
    JsonNode badSteps = assertProblem(api.post("/api/runs/" + runId + "/fork",
        Map.of("from_step", 0, "agent_overrides", Map.of("max_steps", 0))), 422);

    assertThat(fields(toolStep)).containsExactly("from_step");
    assertThat(toolStep.toString()).contains("[0, 2]");
    assertThat(fields(missing)).containsExactly("from_step");
    assertThat(fields(name)).containsExactly("agent_overrides.name");
    assertThat(fields(badSteps)).containsExactly("agent_overrides.max_steps");
    assertThat(api.get("/api/runs/" + runId).json().get("status").asText()).isEqualTo("completed");
  }

  @Test
  void unknown_run_is_404_and_a_bad_agent_version_is_422() {
    assertProblem(api.post("/api/runs/no-such-run/replay", Map.of()), 404);
    assertProblem(api.post("/api/runs/no-such-run/fork", Map.of("from_step", 0)), 404);
    String agent = setup.agent(List.of("calculator"), Map.of());
    String runId = calculatorRun(agent).get("id").asText();
    JsonNode problem = assertProblem(api.post("/api/runs/" + runId + "/replay", Map.of("agent_version", "v2")), 422);
    assertThat(fields(problem)).containsExactly("agent_version");
  }

  @Test
  void a_run_that_has_not_ended_is_409() {
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("slowly").withDelay(Duration.ofSeconds(3)));
    var started = api.post("/api/agents/" + agent + "/runs", Map.of("input", "Take your time"));
    assertThat(started.status()).as(started.toString()).isEqualTo(201);
    String runId = started.json().get("id").asText();
    setup.awaitStatus(runId, "running");

    assertProblem(api.post("/api/runs/" + runId + "/replay", Map.of()), 409);
    assertProblem(api.post("/api/runs/" + runId + "/fork", Map.of("from_step", 0)), 409);

    assertThat(setup.awaitSettled(runId).get("status").asText()).isEqualTo("completed");
    assertThat(api.post("/api/runs/" + runId + "/replay", Map.of()).status()).isEqualTo(200);
  }
}
