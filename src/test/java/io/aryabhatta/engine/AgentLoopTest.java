package io.aryabhatta.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentInput;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.ModelSettings;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.memory.MemoryService;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.FailureKind;
import io.aryabhatta.model.ModelCallException;
import io.aryabhatta.model.ModelCaller;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.model.WrittenRequest;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.Usage;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.SettledWatch;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.Streaming;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.BuiltinTools;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolInput;
import io.aryabhatta.tools.ToolInvoker;
import io.aryabhatta.tools.ToolOutcome;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.workspaces.Caller;
import io.aryabhatta.tracing.RunTracer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent loop and the scheduler alone: the real journal, run service and definitions on a real
 * PostgreSQL, with a scripted model and scripted tools in place of a provider and tool targets, so
 * that each branch of the loop takes milliseconds.
 */
class AgentLoopTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Caller CALLER = new Caller("key_test", "default", "ab_test", true);
  private static Jdbi jdbi;

  private final ScriptedModel model = new ScriptedModel();
  private final ScriptedTools tools = new ScriptedTools();
  private Loop loop;

  @BeforeAll
  static void database() {
    jdbi = TestPostgres.freshMigratedJdbi();
  }

  @BeforeEach
  void wire() {
    loop = Loop.wire(jdbi, model, tools);
  }

  @AfterEach
  void stop() {
    loop.scheduler().shutdown(Duration.ofSeconds(2));
    loop.watch().close();
  }

  @Test
  void a_final_answer_completes_the_run_after_one_model_call() throws Exception {
    model.answers(request -> answer("Hello."));

    Run run = loop.runAndWait(loop.agent("never", 10), "Hi");

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(run.output()).isEqualTo("Hello.");
    assertThat(loop.steps(run)).extracting(Step::type, Step::status)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("llm_call", StepStatus.COMPLETED));
    assertThat(model.requests()).hasSize(1);
    assertThat(last(model.requests().get(0)).content()).isEqualTo("Hi");
  }

  @Test
  void a_tool_result_is_what_the_model_reads_next() throws Exception {
    ToolDefinition charge = loop.httpTool("charge", false, false);
    tools.outcomes(call -> ToolOutcome.success("charged 5 EUR", 200, 3));
    model.answers(request -> toolCall("call_1", charge.name(), "{\"amount\":5}"), request -> answer("Done."));

    Run run = loop.runAndWait(loop.agent("never", 10, charge.name()), "Charge me");

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(tools.calls()).containsExactly(charge.name() + " {\"amount\":5}");
    ChatMessage toolMessage = last(model.requests().get(1));
    assertThat(toolMessage.role()).isEqualTo("tool");
    assertThat(toolMessage.toolCallId()).isEqualTo("call_1");
    assertThat(toolMessage.content()).isEqualTo("charged 5 EUR");
    assertThat(loop.steps(run)).extracting(Step::status)
        .containsExactly(StepStatus.COMPLETED, StepStatus.COMPLETED, StepStatus.COMPLETED);
  }

  @Test
  void a_model_failure_fails_the_run_with_its_kind() throws Exception {
    model.answers(request -> {
      throw ModelCallException.failure(FailureKind.PROVIDER_UNAVAILABLE, "the provider answered 503 three times");
    });

    Run run = loop.runAndWait(loop.agent("never", 10), "Hi");

    assertThat(run.status()).isEqualTo(RunStatus.FAILED);
    assertThat(run.error().path("code").asText()).isEqualTo("model_provider_unavailable");
    assertThat(loop.steps(run)).extracting(Step::status).containsExactly(StepStatus.FAILED);
  }

  @Test
  void an_idempotent_tool_that_fails_transiently_is_tried_again_with_the_same_key() throws Exception {
    ToolDefinition lookup = loop.httpTool("lookup", true, false);
    tools.outcomes(call -> ToolOutcome.transientError("503 from the target", 503, 2),
        call -> ToolOutcome.success("found", 200, 2));
    model.answers(request -> toolCall("call_1", lookup.name(), "{}"), request -> answer("Found it."));

    Run run = loop.runAndWait(loop.agent("never", 10, lookup.name()), "Look it up");

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(tools.calls()).hasSize(2);
    assertThat(tools.keys()).hasSize(2).doesNotContainNull();
    assertThat(Collections.frequency(tools.keys(), tools.keys().get(0))).isEqualTo(2);
    Step call = loop.steps(run).get(1);
    assertThat(call.status()).isEqualTo(StepStatus.COMPLETED);
    assertThat(call.attempts()).hasSize(2);
  }

  @Test
  void a_call_of_unknown_outcome_waits_for_a_person_and_is_not_executed_again() throws Exception {
    ToolDefinition charge = loop.httpTool("charge", false, false);
    tools.outcomes(call -> ToolOutcome.unknown("the connection broke after the request was sent", null, 30000));
    model.answers(request -> toolCall("call_1", charge.name(), "{\"amount\":5}"));

    Run run = loop.runAndWait(loop.agent("never", 10, charge.name()), "Charge me");

    assertThat(run.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(run.requiredAction().path("type").asText()).isEqualTo("resolve_unknown_outcome");
    assertThat(run.requiredAction().at("/tool_calls/0/id").asText()).isEqualTo("call_1");
    assertThat(loop.steps(run).get(1).status()).isEqualTo(StepStatus.UNKNOWN_OUTCOME);
    assertThat(tools.calls()).hasSize(1);
    assertThat(model.requests()).hasSize(1);
  }

  @Test
  void a_tool_that_needs_approval_is_not_executed_before_a_person_approves() throws Exception {
    ToolDefinition refund = loop.httpTool("refund", false, true);
    model.answers(request -> toolCall("call_1", refund.name(), "{}"));

    Run run = loop.runAndWait(loop.agent("per_tool", 10, refund.name()), "Refund me");

    assertThat(run.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(run.requiredAction().path("type").asText()).isEqualTo("approve_tool_calls");
    assertThat(loop.steps(run).get(1).status()).isEqualTo(StepStatus.AWAITING_APPROVAL);
    assertThat(tools.calls()).isEmpty();

    tools.outcomes(call -> ToolOutcome.success("refunded", 200, 1));
    model.answers(request -> answer("Refunded."));
    loop.runs().approve(CALLER, run.id(), List.of(new RunService.Decision("call_1", true, "ok")));
    Run approved = loop.runs().awaitSettled(CALLER, run.id(), WAIT);

    assertThat(approved.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(tools.calls()).hasSize(1);
  }

  @Test
  void a_cancel_during_a_tool_call_leaves_the_next_call_not_executed() throws Exception {
    ToolDefinition first = loop.httpTool("first", false, false);
    ToolDefinition second = loop.httpTool("second", false, false);
    tools.outcomes(call -> {
      loop.runs().cancel(CALLER, call.runId());
      return ToolOutcome.success("first done", 200, 1);
    });
    model.answers(request -> toolCalls(new ToolCall("call_1", first.name(), "{}"),
        new ToolCall("call_2", second.name(), "{}")));

    Run run = loop.runAndWait(loop.agent("never", 10, first.name(), second.name()), "Do both");

    assertThat(run.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(tools.calls()).containsExactly(first.name() + " {}");
    List<Step> steps = loop.steps(run);
    assertThat(steps.get(1).status()).isEqualTo(StepStatus.COMPLETED);
    assertThat(steps.get(2).status()).isEqualTo(StepStatus.CANCELLED);
    assertThat(steps.get(2).error()).isNull();
  }

  @Test
  void each_tool_call_is_journaled_started_with_what_the_tool_is_while_it_executes() throws Exception {
    ToolDefinition first = loop.httpTool("first", false, false);
    ToolDefinition second = loop.httpTool("second", true, false);
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Function<Call, ToolOutcome> look = call -> {
      // What a process resuming the run would find now, were this one to die.
      seen.add(jdbi.withHandle(h -> h.createQuery("""
              SELECT string_agg(idx || ':' || status || ':' || (started_at IS NOT NULL)
                                || ':' || coalesce(executed_as->>'idempotent', '-'), ' ' ORDER BY idx)
              FROM run_steps WHERE run_id = :r""").bind("r", call.runId()).mapTo(String.class).one()));
      return ToolOutcome.success(call.name() + " done", 200, 1);
    };
    tools.outcomes(look, look);
    model.answers(request -> toolCalls(new ToolCall("call_1", first.name(), "{}"),
        new ToolCall("call_2", second.name(), "{}")), request -> answer("Both done."));

    Run run = loop.runAndWait(loop.agent("never", 10, first.name(), second.name()), "Do both");

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(seen).containsExactly(
        "0:completed:true:- 1:started:true:false 2:pending:false:-",
        "0:completed:true:- 1:completed:true:false 2:started:true:true");
  }

  @Test
  void a_cancel_that_arrives_with_the_answer_starts_none_of_its_tool_calls() throws Exception {
    ToolDefinition charge = loop.httpTool("charge", false, false);
    model.answers(request -> {
      // The cancel commits while the model answers (it interrupts the call, which answers anyway):
      // the answer's transaction finds it.
      Thread canceller = Thread.ofVirtual().start(() -> jdbi.withHandle(h -> h.createQuery(
          "SELECT id FROM runs WHERE status = 'running'").mapTo(String.class).list())
          .forEach(id -> loop.runs().cancel(CALLER, id)));
      while (canceller.isAlive()) {
        try {
          canceller.join();
        } catch (InterruptedException e) {
          // The cancel's interrupt of this call.
        }
      }
      Thread.interrupted();
      return toolCall("call_1", charge.name(), "{}");
    });

    Run run = loop.runAndWait(loop.agent("never", 10, charge.name()), "Charge me");

    assertThat(run.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(tools.calls()).isEmpty();
    List<Step> steps = loop.steps(run);
    assertThat(steps).extracting(Step::type, Step::status).containsExactly(
        org.assertj.core.groups.Tuple.tuple("llm_call", StepStatus.COMPLETED),
        org.assertj.core.groups.Tuple.tuple("tool_call", StepStatus.CANCELLED));
    assertThat(steps.get(1).executedAs()).isNull();
  }

  @Test
  void a_run_that_reaches_max_steps_fails_without_another_model_call() throws Exception {
    ToolDefinition lookup = loop.httpTool("lookup", true, false);
    tools.outcomes(call -> ToolOutcome.success("more", 200, 1), call -> ToolOutcome.success("more", 200, 1));
    model.answers(request -> toolCall("call_1", lookup.name(), "{}"), request -> toolCall("call_2", lookup.name(), "{}"));

    Run run = loop.runAndWait(loop.agent("never", 2, lookup.name()), "Loop");

    assertThat(run.status()).isEqualTo(RunStatus.FAILED);
    assertThat(run.error().path("code").asText()).isEqualTo("max_steps_reached");
    assertThat(model.requests()).hasSize(2);
  }

  @Test
  void a_queued_run_is_claimed_by_a_polling_scheduler_and_driven_to_completion() throws Exception {
    // Created through a node that takes no runs (it has stopped), the run is queued for any node.
    RunScheduler stopped = loop.scheduler("node-stopped");
    stopped.shutdown(Duration.ZERO);
    RunService queueOnly = loop.runService(stopped);
    model.answers(request -> answer("Picked up."));

    Run created = queueOnly.startRunOfAgent(CALLER, loop.agent("never", 10), "Hi", Map.of(), null,
        Streaming.WHOLE_ANSWER);
    assertThat(created.status()).isEqualTo(RunStatus.QUEUED);
    Run run = loop.runs().awaitSettled(CALLER, created.id(), WAIT);

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(run.output()).isEqualTo("Picked up.");
  }

  @Test
  void a_client_waiting_on_a_run_another_node_settles_is_woken_by_the_watch() throws Exception {
    // The waiter's process has a notifier of its own, so the node that drives the run signals
    // nothing to it, as for a run driven elsewhere: only its watch can tell it the run has settled.
    EventNotifier elsewhere = new EventNotifier();
    try (SettledWatch watch = new SettledWatch(jdbi, elsewhere, Duration.ofMillis(50))) {
      watch.start();
      RunService waiter = loop.runServiceElsewhere(elsewhere, watch);
      model.answers(request -> {
        Pause.sleep(300);
        return answer("Done elsewhere.");
      });
      Run created = loop.runs().startRunOfAgent(CALLER, loop.agent("never", 10), "Hi", Map.of(), null,
          Streaming.WHOLE_ANSWER);

      long started = System.nanoTime();
      Run run = waiter.awaitSettled(CALLER, created.id(), Duration.ofSeconds(30));

      assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void a_client_waiting_with_the_row_its_start_returned_gets_the_run_as_settled_even_when_it_settled_first()
      throws Exception {
    // The waiter hears this node's notifier, and its watch never checks: once the run has
    // settled before the wait begins, only a read of the run can tell it so.
    try (SettledWatch idle = new SettledWatch(jdbi, loop.notifier(), Duration.ofHours(1))) {
      RunService waiter = loop.runServiceElsewhere(loop.notifier(), idle);
      model.answers(request -> answer("Quick."));
      Run created = loop.runs().startRunOfAgent(CALLER, loop.agent("never", 10), "Hi", Map.of(), null,
          Streaming.WHOLE_ANSWER);
      assertThat(created.status()).isEqualTo(RunStatus.RUNNING);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!loop.store().run(CALLER.workspaceId(), created.id()).orElseThrow().status().isEnded()
          && System.nanoTime() < deadline) {
        Pause.sleep(10);
      }

      long started = System.nanoTime();
      Run run = waiter.awaitSettled(CALLER, created, Duration.ofSeconds(30));

      assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(run.output()).isEqualTo("Quick.");
      // Not after a waiter's own recheck (10 s), which would have found it too.
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void a_client_waiting_with_the_row_its_start_returned_is_woken_when_the_run_settles_here() throws Exception {
    try (SettledWatch idle = new SettledWatch(jdbi, loop.notifier(), Duration.ofHours(1))) {
      RunService waiter = loop.runServiceElsewhere(loop.notifier(), idle);
      model.answers(request -> {
        Pause.sleep(300);
        return answer("Slow.");
      });
      Run created = loop.runs().startRunOfAgent(CALLER, loop.agent("never", 10), "Hi", Map.of(), null,
          Streaming.WHOLE_ANSWER);

      Run run = waiter.awaitSettled(CALLER, created, Duration.ofSeconds(5));

      assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(run.output()).isEqualTo("Slow.");
    }
  }

  @Test
  void a_closed_watch_leaves_its_waiters_reading_their_run_every_second() throws Exception {
    // As when this process stops: the run is settled elsewhere after the watch is gone.
    EventNotifier elsewhere = new EventNotifier();
    SettledWatch watch = new SettledWatch(jdbi, elsewhere, Duration.ofMillis(50));
    watch.start();
    RunService waiter = loop.runServiceElsewhere(elsewhere, watch);
    model.answers(request -> {
      Pause.sleep(500);
      return answer("Done after the watch closed.");
    });
    Run created = loop.runs().startRunOfAgent(CALLER, loop.agent("never", 10), "Hi", Map.of(), null,
        Streaming.WHOLE_ANSWER);
    Thread.ofVirtual().start(() -> {
      Pause.sleep(100);
      watch.close();
    });

    long started = System.nanoTime();
    Run run = waiter.awaitSettled(CALLER, created.id(), Duration.ofSeconds(30));

    assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  // ---- the scripted model and tools ----

  private static ChatResult answer(String text) {
    return new ChatResult(text, null, List.of(), "stop", new Usage(10, 5, 15), null, null, List.of());
  }

  private static ChatResult toolCall(String id, String name, String arguments) {
    return toolCalls(new ToolCall(id, name, arguments));
  }

  private static ChatResult toolCalls(ToolCall... calls) {
    return new ChatResult(null, null, List.of(calls), "tool_calls", new Usage(10, 5, 15), null, null, List.of());
  }

  private static ChatMessage last(ChatRequest request) {
    return request.messages().get(request.messages().size() - 1);
  }

  /** Answers each model call with the next scripted function of its request, and keeps the requests. */
  private static final class ScriptedModel implements ModelCaller {
    private final Deque<Function<ChatRequest, ChatResult>> script = new ArrayDeque<>();
    private final List<ChatRequest> requests = Collections.synchronizedList(new ArrayList<>());

    @SafeVarargs
    final synchronized void answers(Function<ChatRequest, ChatResult>... answers) {
      script.addAll(List.of(answers));
    }

    List<ChatRequest> requests() {
      return List.copyOf(requests);
    }

    @Override
    public ChatResult complete(ModelEndpoint endpoint, WrittenRequest written,
        java.util.function.Consumer<String> onTextDelta) {
      ChatRequest request = written.request();
      requests.add(request);
      Function<ChatRequest, ChatResult> next;
      synchronized (this) {
        next = script.poll();
      }
      if (next == null) {
        throw ModelCallException.failure(FailureKind.INVALID_RESPONSE, "the test scripted no further answer");
      }
      return next.apply(request);
    }
  }

  /** A tool call as the scripted tools see it. */
  private record Call(String runId, String name, String arguments) {}

  /** Gives each tool call the next scripted outcome, and keeps what was called with which key. */
  private static final class ScriptedTools implements ToolInvoker {
    private final Deque<Function<Call, ToolOutcome>> script = new ArrayDeque<>();
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<String> keys = Collections.synchronizedList(new ArrayList<>());

    @SafeVarargs
    final synchronized void outcomes(Function<Call, ToolOutcome>... outcomes) {
      script.addAll(List.of(outcomes));
    }

    List<String> calls() {
      return List.copyOf(calls);
    }

    List<String> keys() {
      return List.copyOf(keys);
    }

    @Override
    public ToolOutcome execute(ToolDefinition tool, JsonNode arguments, ToolContext context) {
      calls.add(tool.name() + " " + arguments);
      keys.add(context.idempotencyKey());
      Function<Call, ToolOutcome> next;
      synchronized (this) {
        next = script.poll();
      }
      String runId = context.idempotencyKey().substring(0, context.idempotencyKey().lastIndexOf('-'));
      return next == null ? ToolOutcome.error("the test scripted no outcome", null, 0)
          : next.apply(new Call(runId, tool.name(), arguments.toString()));
    }
  }

  /** Metrics are not what these tests look at. */
  private static final RunObserver IGNORED = new RunObserver() {
    @Override
    public void modelCall(String provider, String model, String outcome, Duration duration, Usage usage) {}

    @Override
    public void toolCall(String tool, boolean ok, Duration duration) {}
  };

  /** The loop, its scheduler and the run service, wired as the engine wires them, around the scripted parts. */
  private record Loop(Jdbi jdbi, ObjectMapper mapper, Ids ids, AuditLog audit, ToolService toolService,
      AgentService agents, RunStore store, EventNotifier notifier, RunEventLog events, RunTransitions transitions,
      RunSetup setup, AgentLoop agentLoop, RunScheduler scheduler, SettledWatch watch, RunService runs) {

    static Loop wire(Jdbi jdbi, ModelCaller model, ToolInvoker tools) {
      ObjectMapper mapper = Json.mapper();
      Ids ids = new Ids(Clock.systemUTC());
      AuditLog audit = new AuditLog(jdbi, mapper);
      SecretService secrets = new SecretService(jdbi, audit, new SecretCipher(new byte[SecretCipher.KEY_BYTES]));
      ToolService toolService = new ToolService(jdbi, audit, ids, mapper, secrets, new BuiltinTools(mapper));
      ProviderService providers = new ProviderService(jdbi, audit, ids, mapper, secrets,
          "http://model.invalid/v1/chat/completions", Optional.of("test-token"));
      AgentService agents = new AgentService(jdbi, audit, ids, mapper, toolService, providers);
      RunStore store = new RunStore(jdbi, mapper);
      EventNotifier notifier = new EventNotifier();
      RunEventLog events = new RunEventLog(mapper, store, notifier);
      RunTransitions transitions = new RunTransitions(mapper, store, events, audit);
      Duration lease = Duration.ofSeconds(30);
      Journal journal = new Journal(jdbi, mapper, events, transitions, audit, lease);
      RunSetup setup = new RunSetup(toolService, providers, mapper);
      AgentLoop agentLoop = new AgentLoop(jdbi, store, journal, agents, setup, model, tools, new ArgumentValidator(),
          new ToolRetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(20)), mapper, IGNORED, RunTracer.OFF);
      RunScheduler scheduler = new RunScheduler(jdbi, agentLoop, notifier, "node-" + ids.next(), lease, 8,
          Duration.ofMillis(50)).start();
      SettledWatch watch = new SettledWatch(jdbi, notifier, Duration.ofMillis(50));
      watch.start();
      RunService runs = new RunService(jdbi, store, events, transitions, agents, scheduler, audit, ids, mapper, notifier,
          watch, setup, new MemoryService(jdbi, audit));
      return new Loop(jdbi, mapper, ids, audit, toolService, agents, store, notifier, events, transitions, setup,
          agentLoop, scheduler, watch, runs);
    }

    RunScheduler scheduler(String node) {
      // Another node's: the runs it drives are not this loop's notifier's.
      return new RunScheduler(jdbi, agentLoop, new EventNotifier(), node, Duration.ofSeconds(30), 8,
          Duration.ofMillis(50));
    }

    /** A run service whose waiters hear nothing from this loop's notifier, as on another node. */
    RunService runServiceElsewhere(EventNotifier notifier, SettledWatch watch) {
      return new RunService(jdbi, store, events, transitions, agents, scheduler, audit, ids, mapper, notifier, watch,
          setup, new MemoryService(jdbi, audit));
    }

    RunService runService(RunScheduler on) {
      return new RunService(jdbi, store, events, transitions, agents, on, audit, ids, mapper, notifier, watch, setup,
          new MemoryService(jdbi, audit));
    }

    String agent(String toolApproval, int maxSteps, String... toolNames) {
      return agents.create(CALLER, new AgentInput("agent-" + ids.next(), null, "You help.",
          new ModelSettings("hf", "test-model", null, null, null, null), List.of(toolNames), toolApproval, maxSteps,
          null)).id();
    }

    ToolDefinition httpTool(String name, boolean idempotent, boolean requiresApproval) {
      String unique = name + "_" + ids.next().toLowerCase().replaceAll("[^a-z0-9]", "");
      String id = toolService.create(CALLER, new ToolInput(unique, "http", "Does " + name,
          mapper.createObjectNode().put("type", "object"),
          new ToolInput.HttpInput("POST", "https://target.invalid/" + name, null, null, null, null), idempotent,
          requiresApproval)).id();
      return toolService.byId("default", id);
    }

    Run runAndWait(String agentId, String input) throws InterruptedException {
      Run created = runs.startRunOfAgent(CALLER, agentId, input, Map.of(), null, Streaming.WHOLE_ANSWER);
      return runs.awaitSettled(CALLER, created.id(), WAIT);
    }

    List<Step> steps(Run run) {
      return store.steps(run.id());
    }
  }
}
