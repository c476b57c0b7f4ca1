package io.aryabhatta.engine;

import static io.aryabhatta.testing.FakeModelServer.call;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCalls;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.FakeModelServer.Reply;
import io.aryabhatta.testing.FakeModelServer.ReceivedRequest;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Agents calling agents: each call a child run, its output the call's result. */
class SubAgentsTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;
  /** How each agent's model answers, by the agent's system prompt (requests of all runs interleave). */
  static final Map<String, Function<ReceivedRequest, Reply>> MODELS = new ConcurrentHashMap<>();
  static final AtomicInteger NAMES = new AtomicInteger();

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> {
      String system = request.messages().get(0).path("content").asText();
      Function<ReceivedRequest, Reply> model = MODELS.get(system);
      return model == null ? text("no model for: " + system) : model.apply(request);
    });
    server = TestServer.start();
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  /** An agent named {@code name...} whose model answers with {@code model}; returns its name. */
  static String agent(String name, List<String> agents, Function<ReceivedRequest, Reply> model) {
    return agent(name, agents, Map.of(), model);
  }

  /** As {@link #agent(String, List, Function)}, with more of the agent's fields ({@code tools}, {@code tool_approval}). */
  static String agent(String name, List<String> agents, Map<String, Object> extra,
      Function<ReceivedRequest, Reply> model) {
    String unique = name + "-" + NAMES.incrementAndGet() + "-" + System.nanoTime() % 100000;
    String prompt = "You are " + unique + ".";
    MODELS.put(prompt, model);
    Map<String, Object> body = new java.util.HashMap<>(extra);
    body.putAll(Map.of("name", unique, "system_prompt", prompt,
        "model", Map.of("provider", "fake", "name", FakeModelServer.MODEL), "agents", agents));
    var r = api.post("/api/agents", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return unique;
  }

  static String idOf(String agentName) {
    for (JsonNode a : api.get("/api/agents?limit=100").json().get("data")) {
      if (a.get("name").asText().equals(agentName)) {
        return a.get("id").asText();
      }
    }
    throw new AssertionError("no agent " + agentName);
  }

  static boolean lastIsTool(ReceivedRequest request) {
    JsonNode messages = request.messages();
    return messages.get(messages.size() - 1).path("role").asText().equals("tool");
  }

  static List<String> toolResults(ReceivedRequest request) {
    List<String> results = new ArrayList<>();
    request.messages().forEach(m -> {
      if (m.path("role").asText().equals("tool")) {
        results.add(m.path("content").asText());
      }
    });
    return results;
  }

  /** Calls each of {@code children} once, then answers with what they answered, joined. */
  static Function<ReceivedRequest, Reply> callingEach(String... children) {
    return request -> {
      if (lastIsTool(request)) {
        return text("Combined: " + String.join(" | ", toolResults(request)));
      }
      List<io.aryabhatta.model.ToolCall> calls = new ArrayList<>();
      for (String child : children) {
        calls.add(call(child, "{\"input\":\"question for " + child + "\"}"));
      }
      return toolCalls(calls.toArray(io.aryabhatta.model.ToolCall[]::new));
    };
  }

  static Function<ReceivedRequest, Reply> echoing(String who) {
    return request -> text(who + " answers: " + request.lastMessageContent());
  }

  static JsonNode start(String agentName) {
    var r = api.post("/api/agents/" + idOf(agentName) + "/runs", Map.of("input", "go"));
    assertThat(r.status()).as(r.toString()).isIn(200, 201, 202);
    return r.json();
  }

  static JsonNode children(String runId) {
    return api.get("/api/runs/" + runId + "/children").json().get("data");
  }

  @Test
  void a_parent_calling_two_children_reads_both_outputs_and_shows_the_tree_and_their_usage() {
    String a = agent("researcher", List.of(), echoing("A"));
    String b = agent("writer", List.of(), echoing("B"));
    String parent = agent("lead", List.of(a, b), callingEach(a, b));

    JsonNode run = setup.awaitSettled(start(parent).get("id").asText());

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    assertThat(run.get("output").asText()).startsWith("Combined: ")
        .contains("A answers: question for " + a, "B answers: question for " + b);
    assertThat(run.get("depth").asInt()).isZero();
    assertThat(run.get("parent_run_id").isNull()).isTrue();
    JsonNode kids = children(run.get("id").asText());
    assertThat(kids).hasSize(2);
    int childTokens = 0;
    for (JsonNode kid : kids) {
      assertThat(kid.get("status").asText()).isEqualTo("completed");
      assertThat(kid.get("parent_run_id").asText()).isEqualTo(run.get("id").asText());
      assertThat(kid.get("depth").asInt()).isEqualTo(1);
      childTokens += kid.get("usage").get("total_tokens").asInt();
    }
    assertThat(kids.get(0).get("parent_step").asInt()).isEqualTo(1);
    assertThat(kids.get(1).get("parent_step").asInt()).isEqualTo(2);
    int ownTokens = 0;
    for (JsonNode step : api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data")) {
      if (step.get("type").asText().equals("llm_call")) {
        ownTokens += step.get("usage").get("total_tokens").asInt();
      }
    }
    assertThat(childTokens).isPositive();
    assertThat(run.get("usage").get("total_tokens").asInt()).isEqualTo(ownTokens + childTokens);
  }

  @Test
  void a_child_that_fails_is_an_error_the_parents_model_reads_with_the_childs_run_id() {
    String failing = agent("broken", List.of(), request -> FakeModelServer.error(400));
    String parent = agent("lead", List.of(failing), callingEach(failing));

    JsonNode run = setup.awaitSettled(start(parent).get("id").asText());

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    String childId = children(run.get("id").asText()).get(0).get("id").asText();
    assertThat(run.get("output").asText()).contains("Error: the agent's run " + childId + " failed");
  }

  record WaitingParent(String runId, String childAgent) {}

  /** A parent run waiting for its one child, whose model takes 20 s to answer. */
  static WaitingParent parentWaitingForASlowChild() {
    String slow = agent("slow", List.of(), request -> text("late").withDelay(Duration.ofSeconds(20)));
    String parent = agent("lead", List.of(slow), callingEach(slow));
    String runId = start(parent).get("id").asText();
    setup.awaitStatus(runId, "waiting");
    return new WaitingParent(runId, slow);
  }

  @Test
  void cancelling_a_waiting_parent_cancels_its_children() {
    WaitingParent waiting = parentWaitingForASlowChild();
    String slow = waiting.childAgent();
    String runId = waiting.runId();

    var cancelled = api.post("/api/runs/" + runId + "/cancel", Map.of());
    assertThat(cancelled.status()).as(cancelled.toString()).isEqualTo(200);

    assertThat(setup.awaitStatus(runId, "cancelled").get("status").asText()).isEqualTo("cancelled");
    String childId = children(runId).get(0).get("id").asText();
    assertThat(setup.awaitStatus(childId, "cancelled").get("status").asText()).isEqualTo("cancelled");
    // The child had begun (its model call was under way): the call is not "not executed".
    JsonNode run = run(runId);
    JsonNode toolMessage = null;
    for (JsonNode m : api.get("/api/conversations/" + run.get("conversation_id").asText() + "/messages").json()
        .get("data")) {
      if (m.get("role").asText().equals("tool")) {
        toolMessage = m;
      }
    }
    assertThat(toolMessage).isNotNull();
    assertThat(toolMessage.get("content").asText()).doesNotContain("Not executed")
        .contains("the agent's run " + childId, "cancelled", "its own journal");
    // Replay reads the call as a child started, as it was, not as a call never executed: so it
    // tells that today the call would start no child, its agent gone.
    JsonNode report = api.post("/api/runs/" + runId + "/replay", Map.of()).json();
    assertThat(report.get("deterministic").asBoolean()).as(report.toString()).isTrue();
    assertThat(api.delete("/api/agents/" + idOf(slow)).status()).isIn(200, 204);
    JsonNode afterDeletion = api.post("/api/runs/" + runId + "/replay", Map.of()).json();
    assertThat(afterDeletion.get("deterministic").asBoolean()).as(afterDeletion.toString()).isFalse();
    assertThat(afterDeletion.toString()).contains("tool " + slow, "answered by a child run");
  }

  @Test
  void a_cancel_that_waited_for_the_transaction_creating_children_cancels_them_too() throws Exception {
    // The child takes its time: it is still at work when the cancel comes to it.
    String child = agent("child", List.of(), request -> text("child's answer").withDelay(Duration.ofSeconds(3)));
    String parent = agent("lead", List.of(child), request -> lastIsTool(request) ? text("done")
        : toolCalls(call(child, "{\"input\":\"q\"}")).withDelay(Duration.ofSeconds(2)));
    org.jdbi.v3.core.Jdbi jdbi = server.server().database().jdbi();
    String runId = start(parent).get("id").asText();
    setup.awaitStatus(runId, "running");

    // The parent's answer is in flight. Its row is held here, so the write that records the answer
    // and creates the child, then the cancel, queue behind this lock, in that order.
    java.util.concurrent.Future<Http.Response> cancel;
    try (org.jdbi.v3.core.Handle holder = jdbi.open();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      holder.begin();
      holder.createQuery("SELECT id FROM runs WHERE id = :id FOR UPDATE").bind("id", runId).mapTo(String.class).one();
      // The loop's write (its fence numbers the events) and the cancel's lock of the row; not,
      // say, the lease heartbeat, which may queue behind the held row too.
      awaitBlocked(jdbi, "WITH numbered AS%");
      cancel = pool.submit(() -> api.post("/api/runs/" + runId + "/cancel", Map.of()));
      awaitBlocked(jdbi, "%FROM runs WHERE id = $1 FOR UPDATE%");
      holder.commit();
      assertThat(cancel.get().status()).as(cancel.get().toString()).isEqualTo(200);
    }

    assertThat(setup.awaitStatus(runId, "cancelled").get("status").asText()).isEqualTo("cancelled");
    JsonNode kids = children(runId);
    assertThat(kids).hasSize(1);
    JsonNode kid = setup.awaitSettled(kids.get(0).get("id").asText());
    assertThat(kid.get("status").asText()).as(kid.toString()).isEqualTo("cancelled");
  }

  @Test
  void a_child_cancelled_as_its_last_answer_commits_adds_that_answers_tokens_to_its_parent() {
    String child = agent("child", List.of(), request -> text("late answer").withDelay(Duration.ofMillis(1500)));
    String parent = agent("lead", List.of(child), callingEach(child));
    org.jdbi.v3.core.Jdbi jdbi = server.server().database().jdbi();
    String runId = start(parent).get("id").asText();
    String childId = awaitChild(runId);
    setup.awaitStatus(childId, "running");

    // The child's answer is on its way. Its row is held here while the cancel's flag is set, so
    // the write recording the answer finds the cancel: the answer is journaled and counted, and the
    // child ends cancelled in that same transaction.
    try (org.jdbi.v3.core.Handle holder = jdbi.open()) {
      holder.begin();
      holder.createQuery("SELECT id FROM runs WHERE id = :id FOR UPDATE").bind("id", childId).mapTo(String.class).one();
      awaitBlocked(jdbi, "WITH numbered AS%");
      holder.createUpdate("UPDATE runs SET cancel_requested = true WHERE id = :id").bind("id", childId).execute();
      holder.commit();
    }

    JsonNode ended = setup.awaitSettled(runId);
    assertThat(ended.get("status").asText()).as(ended.toString()).isEqualTo("completed");
    JsonNode kid = run(childId);
    assertThat(kid.get("status").asText()).isEqualTo("cancelled");
    int childTokens = modelCallTokens(childId);
    assertThat(childTokens).isPositive();
    assertThat(kid.get("usage").get("total_tokens").asInt()).isEqualTo(childTokens);
    assertThat(ended.get("usage").get("total_tokens").asInt()).isEqualTo(modelCallTokens(runId) + childTokens);
  }

  static String awaitChild(String runId) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (children(runId).isEmpty()) {
      assertThat(System.nanoTime()).as("a child of %s", runId).isLessThan(deadline);
      AgentSetup.sleep(20);
    }
    return children(runId).get(0).get("id").asText();
  }

  static int modelCallTokens(String runId) {
    int tokens = 0;
    for (JsonNode step : api.get("/api/runs/" + runId + "/steps").json().get("data")) {
      if (step.get("type").asText().equals("llm_call") && step.hasNonNull("usage")) {
        tokens += step.get("usage").get("total_tokens").asInt();
      }
    }
    return tokens;
  }

  @Test
  void a_cancel_of_a_parent_that_ended_with_children_still_active_cancels_them_and_answers_409() {
    String runId = parentWaitingForASlowChild().runId();
    String childId = children(runId).get(0).get("id").asText();
    // As a cancel leaves it when its process stops before it reaches a child created meanwhile.
    server.server().database().jdbi().useHandle(h -> h.createUpdate(
            "UPDATE runs SET status = 'cancelled', ended_at = now() WHERE id = :id").bind("id", runId).execute());

    var again = api.post("/api/runs/" + runId + "/cancel", Map.of());

    assertThat(again.status()).as(again.toString()).isEqualTo(409);
    assertThat(setup.awaitStatus(childId, "cancelled").get("status").asText()).isEqualTo("cancelled");
  }

  /** Waits until a statement like {@code query} waits for a lock (here: the held row's). */
  static void awaitBlocked(org.jdbi.v3.core.Jdbi jdbi, String query) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (jdbi.withHandle(h -> h.createQuery("""
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE :query""")
        .bind("query", query).mapTo(Integer.class).one()) == 0) {
      assertThat(System.nanoTime()).as("a statement like %s waiting for the held row", query).isLessThan(deadline);
      AgentSetup.sleep(20);
    }
  }

  @Test
  void a_call_that_would_close_a_cycle_is_a_tool_error() {
    String first = agent("first", List.of(), echoing("first"));
    String second = agent("second", List.of(first), callingEach(first));
    var patched = api.patch("/api/agents/" + idOf(first), Map.of("agents", List.of(second)));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    MODELS.put("You are " + first + ".", callingEach(second));

    JsonNode run = setup.awaitSettled(start(first).get("id").asText());

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    // first → second → (first again: refused); second's model reads why, and answers first.
    assertThat(run.get("output").asText()).contains("would be a cycle");
    JsonNode kids = children(run.get("id").asText());
    assertThat(kids).hasSize(1);
    assertThat(children(kids.get(0).get("id").asText())).isEmpty();
  }

  @Test
  void a_call_beyond_the_depth_limit_is_a_tool_error() {
    String last = agent("d4", List.of(), echoing("d4"));
    String d3 = agent("d3", List.of(last), callingEach(last));
    String d2 = agent("d2", List.of(d3), callingEach(d3));
    String d1 = agent("d1", List.of(d2), callingEach(d2));
    String root = agent("d0", List.of(d1), callingEach(d1));

    JsonNode run = setup.awaitSettled(start(root).get("id").asText());

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    assertThat(run.get("output").asText()).contains("depth 3").doesNotContain("d4 answers");
  }

  @Test
  void an_agent_may_list_only_other_agents_of_its_workspace() {
    String other = agent("other", List.of(), echoing("other"));
    var unknown = api.post("/api/agents", Map.of("name", "caller-" + System.nanoTime() % 100000,
        "model", Map.of("provider", "fake", "name", FakeModelServer.MODEL), "agents", List.of("nobody-here")));
    assertThat(unknown.status()).isEqualTo(422);
    assertThat(unknown.toString()).contains("agents[0]");
    var self = api.patch("/api/agents/" + idOf(other), Map.of("agents", List.of(other)));
    assertThat(self.status()).isEqualTo(422);
    assertThat(self.toString()).contains("cannot call itself");
  }

  /** Asks for the calculator once, then answers with its result. */
  static Function<ReceivedRequest, Reply> calculating(String who, Duration afterwards) {
    return request -> lastIsTool(request)
        ? text(who + " computed " + String.join(",", toolResults(request))).withDelay(afterwards)
        : FakeModelServer.toolCall("calculator", "{\"expression\":\"6 * 7\"}");
  }

  static JsonNode run(String runId) {
    return api.get("/api/runs/" + runId).json();
  }

  @Test
  void a_child_waiting_for_approval_surfaces_on_its_parent_and_is_answered_on_the_child() {
    String careful = agent("careful", List.of(), Map.of("tools", List.of("calculator"), "tool_approval", "always"),
        calculating("careful", Duration.ofMillis(1500)));
    String parent = agent("lead", List.of(careful), callingEach(careful));
    String runId = start(parent).get("id").asText();

    JsonNode waiting = setup.awaitStatus(runId, "requires_action");
    String childId = children(runId).get(0).get("id").asText();
    JsonNode child = run(childId);
    assertThat(child.get("status").asText()).isEqualTo("requires_action");
    JsonNode action = waiting.get("required_action");
    assertThat(action.get("type").asText()).as(action.toString()).isEqualTo("child_requires_action");
    assertThat(action.get("tool_calls")).hasSize(1);
    assertThat(action.get("tool_calls").get(0).get("name").asText()).isEqualTo(careful);
    assertThat(action.get("children")).hasSize(1);
    JsonNode surfaced = action.get("children").get(0);
    assertThat(surfaced.get("run_id").asText()).isEqualTo(childId);
    assertThat(surfaced.get("tool_call_id").asText()).isEqualTo(action.get("tool_calls").get(0).get("id").asText());
    assertThat(surfaced.get("required_action")).isEqualTo(child.get("required_action"));
    assertThat(surfaced.get("required_action").get("type").asText()).isEqualTo("approve_tool_calls");
    JsonNode events = api.get("/api/runs/" + runId + "/events?format=json").json().get("data");
    assertThat(events).anySatisfy(e -> assertThat(e.get("type").asText()).isEqualTo("run.requires_action"));

    // The person answers on the child; the parent is not where its calls are decided.
    var onParent = api.post("/api/runs/" + runId + "/approvals", Map.of("decisions",
        List.of(Map.of("tool_call_id", action.get("tool_calls").get(0).get("id").asText(), "approve", true))));
    assertThat(onParent.status()).as(onParent.toString()).isEqualTo(409);
    assertThat(onParent.toString()).contains(childId);
    String childCall = child.get("required_action").get("tool_calls").get(0).get("id").asText();
    var approved = api.post("/api/runs/" + childId + "/approvals",
        Map.of("decisions", List.of(Map.of("tool_call_id", childCall, "approve", true))));
    assertThat(approved.status()).as(approved.toString()).isEqualTo(200);

    // In the transaction that answered the child: the parent waits again, for its child only.
    JsonNode after = run(runId);
    assertThat(after.get("status").asText()).isEqualTo("waiting");
    assertThat(after.get("required_action").isNull()).as(after.toString()).isTrue();
    JsonNode done = setup.awaitStatus(runId, "completed");
    assertThat(done.get("output").asText()).contains("careful computed 42");

    // Every status change of the parent that its child made is audited, as the engine's.
    JsonNode audited = api.get("/api/audit?resource_type=run&resource_id=" + runId + "&limit=100").json().get("data");
    List<String> byEngine = new java.util.ArrayList<>();
    audited.forEach(row -> {
      if (row.get("actor").asText().equals("engine")) {
        byEngine.add(row.get("action").asText());
      }
    });
    assertThat(byEngine).as(audited.toString())
        .contains("run.waiting", "run.requires_action", "run.queued", "run.completed");
    JsonNode paused = null;
    for (JsonNode row : audited) {
      if (row.get("action").asText().equals("run.requires_action") && row.get("actor").asText().equals("engine")
          && row.get("details").has("child_run_ids")) {
        paused = row;
      }
    }
    assertThat(paused).as(audited.toString()).isNotNull();
    assertThat(paused.get("details").get("child_run_ids").get(0).asText()).isEqualTo(childId);
  }

  @Test
  void a_grandchild_waiting_for_a_person_surfaces_up_to_the_root() {
    String leaf = agent("leaf", List.of(), Map.of("tools", List.of("calculator"), "tool_approval", "always"),
        calculating("leaf", Duration.ZERO));
    String middle = agent("middle", List.of(leaf), callingEach(leaf));
    String root = agent("root", List.of(middle), callingEach(middle));
    String rootId = start(root).get("id").asText();

    JsonNode waiting = setup.awaitStatus(rootId, "requires_action");
    String middleId = children(rootId).get(0).get("id").asText();
    String leafId = children(middleId).get(0).get("id").asText();
    JsonNode nested = waiting.get("required_action").get("children").get(0);
    assertThat(nested.get("run_id").asText()).isEqualTo(middleId);
    assertThat(nested.get("required_action").get("type").asText()).isEqualTo("child_requires_action");
    JsonNode leafAction = nested.get("required_action").get("children").get(0);
    assertThat(leafAction.get("run_id").asText()).isEqualTo(leafId);
    assertThat(leafAction.get("required_action").get("type").asText()).isEqualTo("approve_tool_calls");

    String call = leafAction.get("required_action").get("tool_calls").get(0).get("id").asText();
    var rejected = api.post("/api/runs/" + leafId + "/approvals",
        Map.of("decisions", List.of(Map.of("tool_call_id", call, "approve", false, "reason", "not today"))));
    assertThat(rejected.status()).as(rejected.toString()).isEqualTo(200);

    JsonNode done = setup.awaitStatus(rootId, "completed");
    assertThat(done.get("required_action").isNull()).isTrue();
    assertThat(done.get("output").asText()).contains("not today");
  }

  @Test
  void a_call_of_an_agent_waits_for_approval_when_its_caller_approves_every_call() {
    String helper = agent("helper", List.of(), echoing("helper"));
    String parent = agent("lead", List.of(helper), Map.of("tool_approval", "always"), callingEach(helper));

    // Rejected: no child, and the model reads why.
    String rejectedRun = start(parent).get("id").asText();
    JsonNode asked = setup.awaitStatus(rejectedRun, "requires_action").get("required_action");
    assertThat(asked.get("type").asText()).isEqualTo("approve_tool_calls");
    assertThat(asked.get("tool_calls").get(0).get("name").asText()).isEqualTo(helper);
    assertThat(children(rejectedRun)).isEmpty();
    var rejection = api.post("/api/runs/" + rejectedRun + "/approvals", Map.of("decisions", List.of(
        Map.of("tool_call_id", asked.get("tool_calls").get(0).get("id").asText(), "approve", false,
            "reason", "no delegating"))));
    assertThat(rejection.status()).as(rejection.toString()).isEqualTo(200);
    JsonNode rejected = setup.awaitStatus(rejectedRun, "completed");
    assertThat(rejected.get("output").asText()).contains("The user rejected this tool call: no delegating");
    assertThat(children(rejectedRun)).isEmpty();

    // Approved: the child starts only then.
    String approvedRun = start(parent).get("id").asText();
    JsonNode again = setup.awaitStatus(approvedRun, "requires_action").get("required_action");
    var approval = api.post("/api/runs/" + approvedRun + "/approvals", Map.of("decisions", List.of(
        Map.of("tool_call_id", again.get("tool_calls").get(0).get("id").asText(), "approve", true))));
    assertThat(approval.status()).as(approval.toString()).isEqualTo(200);
    JsonNode approved = setup.awaitStatus(approvedRun, "completed");
    assertThat(approved.get("output").asText()).contains("helper answers: question for " + helper);
    assertThat(children(approvedRun)).hasSize(1);
  }

  @Test
  void tool_messages_reach_the_parent_in_the_order_of_its_calls_not_the_order_children_end() {
    String slow = agent("slow", List.of(), request -> text("slow answer").withDelay(Duration.ofMillis(1500)));
    String fast = agent("fast", List.of(), request -> text("fast answer"));
    List<List<String>> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    String parent = agent("lead", List.of(slow, fast), Map.of("tools", List.of("calculator")), request -> {
      if (lastIsTool(request)) {
        List<String> order = new ArrayList<>();
        request.messages().forEach(m -> {
          if (m.path("role").asText().equals("tool")) {
            order.add(m.path("name").asText(m.path("tool_call_id").asText()) + "=" + m.path("content").asText());
          }
        });
        seen.add(order);
        return text("done");
      }
      return toolCalls(call(slow, "{\"input\":\"a\"}"), call("calculator", "{\"expression\":\"1 + 1\"}"),
          call(fast, "{\"input\":\"b\"}"));
    });

    JsonNode run = setup.awaitSettled(start(parent).get("id").asText());

    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0)).extracting(s -> s.substring(s.indexOf('=') + 1))
        .containsExactly("slow answer", "2", "fast answer");
    List<String> conversation = new ArrayList<>();
    api.get("/api/conversations/" + run.get("conversation_id").asText() + "/messages").json().get("data")
        .forEach(m -> conversation.add(m.get("role").asText() + ":" + m.path("content").asText("")));
    assertThat(conversation).containsExactly("user:go", "assistant:", "tool:slow answer", "tool:2",
        "tool:fast answer", "assistant:done");
  }

  @Test
  void a_parent_replays_as_recorded_and_a_fork_reuses_the_childrens_results_before_its_step() {
    AtomicInteger helperCalls = new AtomicInteger();
    String helper = agent("helper", List.of(), request -> {
      helperCalls.incrementAndGet();
      return text("helper says hi");
    });
    String failing = agent("broken", List.of(), request -> FakeModelServer.error(400));
    String parent = agent("lead", List.of(helper, failing), callingEach(helper, failing));
    JsonNode original = setup.awaitSettled(start(parent).get("id").asText());
    String originalId = original.get("id").asText();
    assertThat(original.get("status").asText()).as(original.toString()).isEqualTo("completed");
    JsonNode originalChildren = children(originalId);
    assertThat(helperCalls.get()).isEqualTo(1);

    for (String version : List.of("pinned", "latest")) {
      JsonNode report = api.post("/api/runs/" + originalId + "/replay", Map.of("agent_version", version)).json();
      assertThat(report.get("deterministic").asBoolean()).as(report.toString()).isTrue();
    }

    // From the last model call: the calls before it are history, answered by the original's children.
    var late = api.post("/api/runs/" + originalId + "/fork", Map.of("from_step", 3));
    assertThat(late.status()).as(late.toString()).isEqualTo(201);
    JsonNode lateFork = setup.awaitSettled(late.json().get("id").asText());
    assertThat(lateFork.get("status").asText()).as(lateFork.toString()).isEqualTo("completed");
    assertThat(lateFork.get("output").asText()).isEqualTo(original.get("output").asText());
    assertThat(children(lateFork.get("id").asText())).isEmpty();
    assertThat(helperCalls.get()).isEqualTo(1);

    // From the first: the model asks again, and its calls start children of the fork's own.
    var early = api.post("/api/runs/" + originalId + "/fork", Map.of("from_step", 0));
    assertThat(early.status()).as(early.toString()).isEqualTo(201);
    JsonNode earlyFork = setup.awaitSettled(early.json().get("id").asText());
    assertThat(earlyFork.get("status").asText()).as(earlyFork.toString()).isEqualTo("completed");
    JsonNode forkChildren = children(earlyFork.get("id").asText());
    assertThat(forkChildren).hasSize(2);
    assertThat(forkChildren.get(0).get("id").asText()).isNotEqualTo(originalChildren.get(0).get("id").asText());
    assertThat(helperCalls.get()).isEqualTo(2);
    assertThat(children(originalId)).hasSize(2);
  }

  @Test
  void a_sibling_ending_keeps_the_question_shown_and_cancelling_the_waiting_child_lets_the_parent_go_on() {
    String careful = agent("careful", List.of(), Map.of("tools", List.of("calculator"), "tool_approval", "always"),
        calculating("careful", Duration.ZERO));
    String helper = agent("helper", List.of(), request -> text("helper done").withDelay(Duration.ofMillis(1500)));
    String parent = agent("lead", List.of(careful, helper), callingEach(careful, helper));
    String runId = start(parent).get("id").asText();

    JsonNode waiting = setup.awaitStatus(runId, "requires_action");
    JsonNode kids = children(runId);
    String carefulId = kids.get(0).get("id").asText();
    String helperId = kids.get(1).get("id").asText();
    assertThat(waiting.at("/required_action/children/0/run_id").asText()).isEqualTo(carefulId);
    setup.awaitStatus(helperId, "completed");
    JsonNode still = run(runId);
    assertThat(still.get("status").asText()).isEqualTo("requires_action");
    assertThat(still.at("/required_action/children")).hasSize(1);
    assertThat(still.at("/required_action/children/0/run_id").asText()).isEqualTo(carefulId);

    var cancelled = api.post("/api/runs/" + carefulId + "/cancel", Map.of());
    assertThat(cancelled.status()).as(cancelled.toString()).isEqualTo(200);

    JsonNode done = setup.awaitStatus(runId, "completed");
    assertThat(done.get("required_action").isNull()).isTrue();
    assertThat(done.get("output").asText()).contains("the agent's run " + carefulId + " was cancelled", "helper done");
  }
}
