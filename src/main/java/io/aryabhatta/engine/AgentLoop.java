package io.aryabhatta.engine;

import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.ModelSettings;
import io.aryabhatta.db.DatabaseErrors;

import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.ModelCallException;
import io.aryabhatta.model.ModelCaller;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.model.Usage;
import io.aryabhatta.model.WireFormat;
import io.aryabhatta.model.WrittenRequest;
import io.aryabhatta.engine.Journal.Fenced;
import io.aryabhatta.engine.Journal.RunFacts;
import io.aryabhatta.runs.RunStore.RunState;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.memory.MemoryTool;
import io.aryabhatta.tools.ClientTools;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolInvoker;
import io.aryabhatta.tools.ToolOutcome;
import io.aryabhatta.tracing.ModelCallSpan;
import io.aryabhatta.tracing.RunSpan;
import io.aryabhatta.tracing.RunTracer;
import io.aryabhatta.tracing.ToolCallSpan;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent loop. The model decides, the backend executes: each turn either answers pending tool
 * calls or asks the model what to do next, and every decision and result is committed to the
 * journal before the next one is made. All state is read back from the journal, so a run resumed
 * by another process after a crash continues exactly where the journal says it stopped.
 */
public final class AgentLoop {
  private static final Logger log = LoggerFactory.getLogger(AgentLoop.class);

  private final Jdbi jdbi;
  private final RunStore store;
  private final Journal journal;
  private final AgentService agents;
  private final RunSetup setup;
  private final ModelCaller models;
  private final ToolInvoker executor;
  private final ToolRetryPolicy toolRetry;
  private final ObjectMapper mapper;
  private final RunObserver observer;
  private final ToolCallRules rules;
  private final WireFormat wire;
  private final RunTracer tracer;
  private final SubAgents subAgents;

  public AgentLoop(Jdbi jdbi, RunStore store, Journal journal, AgentService agents, RunSetup setup, ModelCaller models,
      ToolInvoker executor, ArgumentValidator validator, ToolRetryPolicy toolRetry, ObjectMapper mapper,
      RunObserver observer, RunTracer tracer) {
    this.observer = observer;
    this.tracer = tracer;
    this.jdbi = jdbi;
    this.store = store;
    this.journal = journal;
    this.agents = agents;
    this.setup = setup;
    this.models = models;
    this.executor = executor;
    this.toolRetry = toolRetry;
    this.mapper = mapper;
    this.rules = new ToolCallRules(validator, mapper);
    this.wire = new WireFormat(mapper);
    this.subAgents = new SubAgents(jdbi, mapper, store, journal.events(), agents);
  }

  /**
   * What a run works with: its row, the pinned agent version (with the run's overrides, if it was
   * forked with some), that version's tools by name, and its provider's endpoint if its creation
   * read it ahead (null: read it before the first model call), and the span of this execution.
   */
  private record Context(RunState run, AgentVersion agent, Map<String, ToolDefinition> tools, RunSetup.Ahead ahead,
      RunSpan trace) {
    Context tracedBy(RunSpan span) {
      return new Context(run, agent, tools, ahead, span);
    }
  }

  /**
   * What the loop knows of its run between its own commits. While it holds the lease only the loop
   * writes the run's steps and conversation (a cancel only raises a flag, which every commit's
   * fence reads back), so they are read once, when the loop takes the run, and kept up to date by
   * the loop itself instead of being read again before every step.
   */
  private static final class Progress {
    final List<Step> steps;
    final List<ChatMessage> history;
    ModelEndpoint endpoint;
    /** A model call whose start has committed, until it is made. */
    OpenedModelCall opened;
    /** The run's tokens, with those of answers held but not yet committed. */
    Usage usage;

    Progress(List<Step> steps, List<ChatMessage> history, Usage usage) {
      this.steps = new ArrayList<>(steps);
      this.history = new ArrayList<>(history);
      this.usage = usage;
    }

    List<Step> openToolCalls() {
      return steps.stream().filter(s -> s.isToolCall() && !s.finished()).toList();
    }

    /** A model call left unanswered by a crash is made again (in the same step), not counted twice. */
    long finishedModelCalls() {
      return steps.stream().filter(s -> !s.isToolCall() && s.finished()).count();
    }

    Integer unansweredModelCall() {
      return steps.stream().filter(s -> !s.isToolCall() && s.status() == StepStatus.STARTED).map(Step::index)
          .findFirst().orElse(null);
    }

    int nextIndex() {
      return steps.isEmpty() ? 0 : steps.get(steps.size() - 1).index() + 1;
    }

    Step step(int index) {
      return steps.stream().filter(s -> s.index() == index).findFirst()
          .orElseThrow(() -> new IllegalStateException("no step " + index));
    }

    void update(Step step) {
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).index() == step.index()) {
          steps.set(i, step);
          return;
        }
      }
      steps.add(step);
    }
  }

  /** The run as the loop found it when it took the run. */
  private record Taken(RunState run, Progress progress) {}

  /**
   * The loop's transactions, each fenced by the lease. A write that guards no side effect by
   * itself (the run starting, a model's answer asking for tools, a tool's result) is held and
   * commits with the loop's next write, which always comes before the next side effect (a model
   * call, a tool's execution) and before the loop returns. The journal's order and guarantees
   * are those of committing each write at once, with half the commits.
   */
  private final class Writes {
    private final Lease lease;
    private final RunFacts facts;
    private final List<Consumer<Fenced>> held = new ArrayList<>();
    /** The answer among the held writes, if any, until it commits. */
    private HeldAnswer heldAnswer;
    private boolean cancelRequested;

    Writes(Lease lease, RunState run) {
      this.lease = lease;
      this.facts = RunFacts.of(run);
      this.cancelRequested = run.cancelRequested();
    }

    void hold(Consumer<Fenced> write) {
      held.add(write);
    }

    /** Holds a model's answer that asks for tools: it commits with the loop's next write. */
    void holdAnswer(HeldAnswer answer) {
      held.add(answer);
      heldAnswer = answer;
    }

    <T> T commitReturning(Function<Fenced, T> write) {
      try {
        return journal.write(lease, facts, fenced -> {
          cancelRequested = fenced.cancelRequested();
          held.forEach(w -> w.accept(fenced));
          return write.apply(fenced);
        });
      } finally {
        held.clear();
        heldAnswer = null;
      }
    }

    /**
     * Commits what is held and the start of {@code step}, as {@link #commitBeforeSideEffect}. A call
     * the held answer asks for is inserted {@code started} with it: the answer's write starts it
     * under the same condition (a live lease, no cancel) as the start itself would be written.
     */
    Boolean commitToolStart(Step step, JsonNode executedAs) {
      HeldAnswer answer = heldAnswer != null && heldAnswer.asksFor(step) ? heldAnswer : null;
      if (answer != null) {
        answer.startsNow = new Journal.ToolStart(step.index(), executedAs);
      }
      return commitBeforeSideEffect(f -> {
        if (answer == null) {
          journal.startTool(f, step, executedAs);
        }
        return true;
      });
    }

    void commit(Consumer<Fenced> write) {
      commitReturning(f -> {
        write.accept(f);
        return null;
      });
    }

    void flush() {
      if (!held.isEmpty()) {
        commit(f -> {});
      }
    }

    /**
     * Commits what is held and then {@code start}, the journal entry of a side effect about to
     * begin, if the run may begin one now. Not when a cancel has arrived: null is returned, and
     * nothing starts. Not when the lease has less than its safety margin left (a heartbeat was
     * missed): the held writes commit, nothing starts, and {@link LeaseLostException} stops the
     * loop, so that the run is resumed under a new claim once this one has expired.
     */
    <T> T commitBeforeSideEffect(Function<Fenced, T> start) {
      // The held answer inserts its call started under the same condition (Journal.completeModelCall).
      Decision<T> decision = commitReturning(f -> f.mayStartSideEffect() ? Decision.started(start.apply(f))
          : f.cancelRequested() ? Decision.<T>cancelled() : Decision.<T>leaseTooShort());
      if (decision.selfFenced()) {
        throw new LeaseLostException(lease.runId(), "less than a third of its lease was left before a side effect");
      }
      return decision.value();
    }

    /** As of the last commit's fence. */
    boolean cancelRequested() {
      return cancelRequested;
    }
  }

  /** Whether a side effect may start, decided by a fence: what its start returned, or why not. */
  private record Decision<T>(T value, boolean selfFenced) {
    static <T> Decision<T> started(T value) {
      return new Decision<>(value, false);
    }

    static <T> Decision<T> cancelled() {
      return new Decision<>(null, false);
    }

    static <T> Decision<T> leaseTooShort() {
      return new Decision<>(null, true);
    }
  }

  /**
   * Drives the run held by {@code lease} until it ends, needs a person, the lease is lost, or this
   * process shuts down (then it stops at the next step boundary and the run's lease is released).
   * {@code known}: what the run's creation in this process knows (it is not read back), or null.
   */
  void drive(Lease lease, Execution execution, NewRun known) {
    Taken taken = known != null && known.history() != null
        ? new Taken(known.state(), new Progress(List.of(), known.history(), known.state().usage()))
        : jdbi.withHandle(h -> {
          RunState state = known != null ? known.state() : store.state(h, lease.runId());
          return new Taken(state, new Progress(store.stepOutlines(h, state.id()), store.history(h, state.conversationId()),
              state.usage()));
        });
    Writes writes = new Writes(lease, taken.run());
    Progress progress = taken.progress();
    Context loaded = load(taken.run(), known, writes);
    RunSpan span = known != null && known.span() != null ? known.span()
        : tracer.startRun(identity(taken.run(), loaded == null ? null : loaded.agent()), taken.run().traceContext());
    if (loaded == null) {
      span.failed("configuration_error", null);
      span.end();
      return;
    }
    try {
      turn(writes, loaded.tracedBy(span), progress, execution, known);
    } catch (LeaseLostException e) {
      span.stopped("lease_lost");
      throw e;
    } catch (RuntimeException e) {
      span.failed(e.getClass().getSimpleName(), e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  private static RunTracer.RunIdentity identity(RunState run, AgentVersion agent) {
    return new RunTracer.RunIdentity(run.id(), run.conversationId(), run.agentId(), agent == null ? null : agent.name(),
        run.agentVersion());
  }

  /** The turns of one execution of the run, until it ends, needs a person, loses its lease or the process stops. */
  private void turn(Writes writes, Context context, Progress progress, Execution execution, NewRun known) {
    Lease lease = writes.lease;
    boolean queued = context.run().status() == RunStatus.QUEUED;
    if (known != null) {
      // Its creation began it (see beginWithinCreation): its first model call is opened.
      progress.opened = known.firstCall();
      progress.update(Step.outline(lease.runId(), progress.opened.index(), "llm_call", StepStatus.STARTED, null, null,
          null, null));
    } else if (queued && progress.steps.isEmpty()) {
      progress.opened = writes.commitBeforeSideEffect(f -> begin(f, context.run(), context.agent(),
          context.tools().values(), progress.history, context.trace().traceContext()));
      if (progress.opened != null) {
        progress.update(Step.outline(lease.runId(), progress.opened.index(), "llm_call", StepStatus.STARTED, null, null,
            null, null));
      }
    } else {
      writes.hold(f -> journal.markRunning(f, queued, context.trace().traceContext()));
    }
    // A model call whose start has committed is made even if this process has begun to stop: it
    // is the step in flight, not a new one.
    while (progress.opened != null || !execution.stopping()) {
      if (writes.cancelRequested()) {
        writes.commit(journal::cancelRun);
        return;
      }
      List<Step> open = progress.openToolCalls();
      if (!open.isEmpty()) {
        if (!answerToolCalls(writes, context, progress, open, execution)) {
          return;
        }
        continue;
      }
      if (progress.finishedModelCalls() >= context.agent().maxSteps()) {
        context.trace().failed("max_steps_reached", null);
        writes.commit(f -> journal.failRun(f, "max_steps_reached",
            "the agent used all " + context.agent().maxSteps() + " steps (max_steps) without a final answer"));
        return;
      }
      if (!askModel(writes, context, progress, execution)) {
        return;
      }
    }
    writes.flush();
  }

  /** Ends a run the loop could not drive because of a bug of ours, if the lease still allows it. */
  void failAfterUnexpectedError(Lease lease, RuntimeException error) {
    String state = DatabaseErrors.sqlState(error);
    String what = state != null ? "the database refused a write (SQLSTATE " + state + ")"
        : "an unexpected error (" + error.getClass().getSimpleName() + ")";
    try {
      journal.write(lease, null, f -> {
        journal.failRun(f, "internal_error", "the run stopped on " + what + "; see the server log");
        return null;
      });
    } catch (RuntimeException e) {
      log.warn("Run {}: could not record the failure ({})", lease.runId(), e.getClass().getSimpleName());
    }
  }

  private Context load(RunState run, NewRun known, Writes writes) {
    try {
      AgentVersion pinned = known != null ? known.agent()
          : agents.version(run.workspaceId(), run.agentId(), run.agentVersion());
      AgentVersion agent = run.agentOverrides() == null ? pinned : agents.withOverrides(pinned, run.agentOverrides());
      RunSetup.Ahead ahead = known != null && known.ahead() != null && known.ahead().isFor(agent) ? known.ahead() : null;
      // In the order a run's creation offers them: the agent's, the client's, then its memory tools.
      Map<String, ToolDefinition> byName = MemoryTool.withMemory(ClientTools.offeredWith(
          ahead != null ? ahead.tools() : setup.tools(run.workspaceId(), agent), run.clientTools()), agent, run.id(),
          run.memoryKey(), mapper);
      return new Context(run, agent, byName, ahead, RunSpan.OFF);
    } catch (DomainException e) {
      writes.commit(f -> journal.failRun(f, "configuration_error",
          "the agent's definition cannot be used: " + e.detail()));
      return null;
    }
  }

  // ---- asking the model ----

  /** Asks the model for the next step; false when the run has ended. */
  private boolean askModel(Writes writes, Context context, Progress progress, Execution execution) {
    ModelSettings settings = context.agent().model();
    OpenedModelCall call = progress.opened != null ? progress.opened : openModelCall(writes, context, progress);
    progress.opened = null;
    if (call == null) {
      // A cancel arrived: the next turn ends the run.
      return true;
    }
    ChatRequest request = call.request().request();
    JsonNode body = call.request().body();
    int index = call.index();
    if (progress.endpoint == null) {
      try {
        progress.endpoint = context.ahead() != null ? context.ahead().endpoint()
            : setup.endpoint(context.run().workspaceId(), context.agent());
      } catch (DomainException e) {
        context.trace().failed("provider_not_configured", e.detail());
        writes.commit(f -> journal.failModelCall(f, index, "provider_not_configured", e.detail(), List.of(), 0));
        return false;
      }
    }

    Lease lease = writes.lease;
    DeltaSink deltas = new DeltaSink(journal, lease, writes.facts, request.stream());
    ModelCallSpan traced = context.trace().modelCall(index, settings.provider(), settings.name(),
        progress.endpoint.baseUrl(), body);
    long started = System.nanoTime();
    ChatResult result;
    try {
      execution.modelCall(true);
      result = models.complete(progress.endpoint, call.request(), deltas::accept);
    } catch (ModelCallException e) {
      execution.modelCall(false);
      Thread.interrupted();
      deltas.flush();
      long ms = millisSince(started);
      if (e instanceof ModelCallException.Cancelled) {
        traced.cancelled();
        writes.commit(f -> journal.cancelModelCall(f, index, e.attempts(), ms));
        return false;
      }
      log.warn("Run {}: model call failed: {}", lease.runId(), e.getMessage());
      traced.failed(e.kind(), e.getMessage());
      context.trace().failed("model_" + e.kind(), e.getMessage());
      observer.modelCall(settings.provider(), settings.name(), e.kind(), Duration.ofMillis(ms), null);
      writes.commit(f -> journal.failModelCall(f, index, "model_" + e.kind(), e.getMessage(), e.attempts(), ms));
      return false;
    } finally {
      execution.modelCall(false);
      deltas.settle();
    }
    Thread.interrupted();
    long ms = millisSince(started);
    ChatResult answer = result;
    traced.answered(answer);
    observer.modelCall(settings.provider(), settings.name(), "ok", Duration.ofMillis(ms), answer.usage());
    progress.update(Step.outline(context.run().id(), index, "llm_call", StepStatus.COMPLETED, null, null, null, null));
    progress.history.add(ChatMessage.assistant(answer.content(), store.chatToolCalls(mapper.valueToTree(answer.toolCalls()))));
    // The last text deltas commit with the answer; the answer itself is held when it asks for
    // tools (it commits before the first of them starts) and committed now when it ends the run.
    Usage usageBefore = progress.usage;
    progress.usage = usageBefore.plus(answer.usage());
    HeldAnswer record = new HeldAnswer(index, answer.toolCalls().size(), (f, startsNow) -> {
      deltas.flush(f.w());
      journal.completeModelCall(f, index, body, answer, ms, usageBefore, startsNow);
    });
    if (answer.toolCalls().isEmpty()) {
      writes.commit(record);
      return false;
    }
    writes.holdAnswer(record);
    Journal.toolSteps(context.run().id(), index, answer.toolCalls()).forEach(progress::update);
    return true;
  }

  /**
   * A model's answer, written when it commits: with the first of its tool calls, when that call
   * starts in the same transaction ({@link Writes#commitToolStart}).
   */
  private static final class HeldAnswer implements Consumer<Fenced> {
    private final int index;
    private final int toolCalls;
    private final BiConsumer<Fenced, Journal.ToolStart> write;
    /**
     * Set just before the commit that starts the call, outside its transaction: a held answer is
     * written by one commit only (every try of it writes it whole), and never held again after it.
     */
    private Journal.ToolStart startsNow;

    HeldAnswer(int index, int toolCalls, BiConsumer<Fenced, Journal.ToolStart> write) {
      this.index = index;
      this.toolCalls = toolCalls;
      this.write = write;
    }

    /** Whether {@code step} is one of the tool calls this answer asks for. */
    boolean asksFor(Step step) {
      return step.index() > index && step.index() <= index + toolCalls;
    }

    @Override
    public void accept(Fenced f) {
      write.accept(f, startsNow);
    }
  }

  /** A model call whose step and request have committed, but which is not made yet. */
  record OpenedModelCall(int index, WrittenRequest request) {}

  /** Commits the start of the next model call (its step and request); null when a cancel arrived instead. */
  private OpenedModelCall openModelCall(Writes writes, Context context, Progress progress) {
    Integer unanswered = progress.unansweredModelCall();
    OpenedModelCall call = writes.commitBeforeSideEffect(f -> open(f, context.run(), context.agent(),
        context.tools().values(), progress.history, unanswered, progress.nextIndex()));
    if (call != null) {
      progress.update(Step.outline(context.run().id(), call.index(), "llm_call", StepStatus.STARTED, null, null, null,
          null));
    }
    return call;
  }

  /** Writes the start of a model call, with the request it will send, in {@code f}. */
  private OpenedModelCall open(Fenced f, RunState run, AgentVersion agent, Collection<ToolDefinition> tools,
      List<ChatMessage> history, Integer unanswered, int nextIndex) {
    ChatRequest request = ModelRequests.build(run.systemPrompt(), history, agent, tools, run.stream());
    WrittenRequest written = wire.write(request);
    return new OpenedModelCall(journal.startModelCall(f, written.json(), unanswered, nextIndex), written);
  }

  /**
   * How a run starts when a node claims it: it becomes {@code running} and its first model call is
   * opened (step 0, {@code started}, with its request), in the loop's first transaction. A run its
   * creation starts on this node begins the same way in the creation's own transaction, inserted
   * {@code running} ({@link #beginWithinCreation}).
   */
  private OpenedModelCall begin(Fenced f, RunState run, AgentVersion agent, Collection<ToolDefinition> tools,
      List<ChatMessage> history, String traceContext) {
    journal.markRunning(f, true, traceContext);
    return open(f, run, agent, tools, history, null, 0);
  }

  /**
   * Begins, in the transaction {@code w} creating it, a run this process starts at once: its
   * creation has read the agent's tools and knows the conversation's messages. Its trace starts
   * here, and its context is journaled with the beginning (a creation that does not commit leaves
   * its span unended, and so never exported).
   */
  NewRun beginWithinCreation(WriteBatch w, Lease lease, NewRun run, Collection<ToolDefinition> tools) {
    RunFacts facts = RunFacts.of(run.state());
    RunSpan span = tracer.startRun(identity(run.state(), run.agent()), null);
    OpenedModelCall first = journal.withinCreation(w, lease, facts, f -> {
      journal.events().appendRunCreated(f.w(), run.state());
      journal.markRunningAtCreation(f, span.traceContext());
      return open(f, run.state(), run.agent(), tools, run.history(), null, 0);
    });
    return run.begun(first, span);
  }

  // ---- answering the model's tool calls ----

  /**
   * Executes, in order, the tool calls that can run now. Returns false when the run must wait for
   * a person (approval, client output, or an unknown outcome to settle).
   */
  private boolean answerToolCalls(Writes writes, Context context, Progress progress, List<Step> open,
      Execution execution) {
    List<Step> awaitingApproval = new ArrayList<>();
    List<Step> awaitingOutput = new ArrayList<>();
    List<Step> unknownOutcome = new ArrayList<>();
    List<SubAgents.Child> children = new ArrayList<>();
    List<Step> awaitingChild = new ArrayList<>();
    for (Step step : open) {
      if (execution.stopping() || writes.cancelRequested()) {
        return true;
      }
      ToolDefinition tool = context.tools().get(step.name());
      Executed executed = Executed.ANSWERED;
      switch (step.status()) {
        case PENDING -> {
          String problem = checkCall(tool, step, context);
          if (problem != null) {
            reportToolError(writes, progress, step, problem);
          } else if (tool.kind().equals("client")) {
            awaitingOutput.add(step);
          } else if (needsApproval(context.agent(), tool)) {
            awaitingApproval.add(step);
          } else if (tool.kind().equals(SubAgents.KIND)) {
            planChild(writes, context, progress, step, children);
          } else {
            executed = execute(writes, context, progress, step, tool, execution);
          }
        }
        case APPROVED -> {
          if (tool != null && tool.kind().equals(SubAgents.KIND)) {
            planChild(writes, context, progress, step, children);
          } else {
            executed = execute(writes, context, progress, step, tool, execution);
          }
        }
        case AWAITING_APPROVAL -> awaitingApproval.add(step);
        case AWAITING_OUTPUT -> awaitingOutput.add(step);
        // Its child was created in the transaction that made it wait: the call waits on.
        case AWAITING_CHILD -> awaitingChild.add(step);
        case STARTED -> {
          // The process that started this call died (or stalled and lost its lease) before
          // recording its outcome. Executing it again is safe only if the tool was idempotent when
          // the call started (as journaled) and is still the same call, and then with the same
          // idempotency key; otherwise a person decides.
          if (ToolSnapshot.mayExecuteAgain(step.executedAs(), tool, mapper)) {
            executed = execute(writes, context, progress, step, tool, execution);
          } else {
            unknownOutcome.add(step);
          }
        }
        case UNKNOWN_OUTCOME -> unknownOutcome.add(step);
        case COMPLETED, FAILED, REJECTED, CANCELLED ->
            throw new IllegalStateException("a finished tool call among the open ones: " + step.status());
      }
      if (executed == Executed.CANCELLED || executed == Executed.STOPPED) {
        // The next turn ends the run (a cancel) or stops the loop.
        return true;
      }
      if (executed == Executed.OUTCOME_UNKNOWN) {
        unknownOutcome.add(progress.step(step.index()));
      }
    }
    if (!unknownOutcome.isEmpty()) {
      return pause(writes, context, "resolve_unknown_outcome", StepStatus.Change.OUTCOME_LOST, unknownOutcome);
    }
    if (!awaitingApproval.isEmpty()) {
      return pause(writes, context, "approve_tool_calls", StepStatus.Change.APPROVAL_ASKED, awaitingApproval);
    }
    if (!awaitingOutput.isEmpty()) {
      return pause(writes, context, "submit_tool_outputs", StepStatus.Change.OUTPUT_ASKED, awaitingOutput);
    }
    if (!children.isEmpty() || !awaitingChild.isEmpty()) {
      return waitForChildren(writes, context, children, awaitingChild);
    }
    return true;
  }

  /** A call of an agent: the child it is to start, or, when it cannot, a tool error the model reads. */
  private void planChild(Writes writes, Context context, Progress progress, Step step, List<SubAgents.Child> children) {
    SubAgents.Plan plan = subAgents.plan(context.run(), step, rules.parseArguments(step.arguments()));
    if (plan.refusal() != null) {
      reportToolError(writes, progress, step, plan.refusal());
    } else {
      children.add(plan.child());
    }
  }

  /**
   * Starts the child runs of the sub-agent calls and makes the run wait for them, in one
   * transaction: a crash either leaves no child and the calls pending, or every child created
   * once and the run waiting (no node holds it; the last child's end queues it again). Returns
   * true when a cancel arrived first (the next turn ends the run), false when the run waits.
   */
  private boolean waitForChildren(Writes writes, Context context, List<SubAgents.Child> children,
      List<Step> alreadyWaiting) {
    Boolean waits = writes.commitBeforeSideEffect(f -> {
      List<String> childIds = new ArrayList<>();
      for (SubAgents.Child child : children) {
        childIds.add(subAgents.start(f.w(), context.run(), child));
        journal.toolWaits(f, child.call(), StepStatus.Change.CHILD_STARTED);
      }
      alreadyWaiting.forEach(call -> childIds.add(SubAgents.childRunId(call)));
      journal.waitForChildren(f, childIds);
      return true;
    });
    if (waits == null) {
      return true;
    }
    context.trace().paused("waiting_for_children");
    return false;
  }

  /** Why a call cannot run (reported to the model, which may correct itself), or null. */
  private String checkCall(ToolDefinition tool, Step step, Context context) {
    return rules.problem(tool, step.name(), step.arguments(), context.tools().keySet());
  }

  private static boolean needsApproval(AgentVersion agent, ToolDefinition tool) {
    return ToolCallRules.needsApproval(agent, tool);
  }

  /** What became of a tool call the loop set out to execute. */
  private enum Executed {
    /** It ran; its result is held, to commit with the loop's next write. */
    ANSWERED,
    /** A cancel arrived before it started (or before a retry): nothing ran that has no result. */
    CANCELLED,
    /** It may have taken effect and its result is unknown: a person settles it. */
    OUTCOME_UNKNOWN,
    /** This process is stopping before a retry: the call is left started, for the next process. */
    STOPPED
  }

  /**
   * Executes one tool call: {@code started} commits first, with what the tool is as it starts, then
   * the tool runs, then its result and the tool message commit together (with the loop's next
   * write). An idempotent tool that fails transiently is tried again, with the same idempotency
   * key, up to the retry policy's bound; each failed attempt is committed to the step before the
   * next one starts, which needs the lease's margin and no cancel like the first. A failure after
   * which nobody knows whether the call took effect (of a tool that is not idempotent, or of an
   * idempotent one whose retries ran out or were stopped) leaves the call of unknown outcome, for
   * a person to settle.
   */
  private Executed execute(Writes writes, Context context, Progress progress, Step step, ToolDefinition tool,
      Execution execution) {
    ObjectNode executedAs = ToolSnapshot.of(tool, mapper);
    if (writes.commitToolStart(step, executedAs) == null) {
      return Executed.CANCELLED;
    }
    Step started = step.after(StepStatus.Change.EXECUTION_STARTED).withExecutedAs(executedAs);
    progress.update(started);
    ToolCallSpan traced = context.trace().toolCall(step.index(), tool.name(), tool.kind(), step.toolCallId(),
        step.arguments());
    long startedNanos = System.nanoTime();
    ToolContext toolContext = new ToolContext(context.run().workspaceId(), step.idempotencyKey());
    int attemptNumber = 1;
    ToolOutcome outcome = runTool(tool, step, toolContext);
    boolean anyUnknown = outcome.outcomeUnknown();
    boolean lastRecorded = false;
    while (shouldRetry(tool, outcome, attemptNumber)) {
      ToolOutcome failed = outcome;
      writes.commit(f -> journal.recordToolAttemptBeforeRetry(f, step.index(), attemptRecord(failed)));
      if (execution.stopping()) {
        // Start nothing new: the call stays started, and the process that resumes the run
        // executes it again, with the same key, as the journal says it was idempotent.
        traced.stopped();
        return Executed.STOPPED;
      }
      attemptNumber++;
      log.info("Run {}: retrying idempotent tool {} (attempt {} of {}) after: {}", writes.lease.runId(), tool.name(),
          attemptNumber, toolRetry.maxAttempts(), failed.result());
      boolean waited = Pause.sleep(toolRetry.backoffBefore(attemptNumber).toMillis());
      if (execution.stopping()) {
        traced.stopped();
        return Executed.STOPPED;
      }
      if (!waited || writes.commitBeforeSideEffect(f -> true) == null) {
        lastRecorded = true;
        break;
      }
      outcome = runTool(tool, step, toolContext);
      anyUnknown |= outcome.outcomeUnknown();
    }
    List<JsonNode> lastAttempt = lastRecorded ? List.of() : List.of(attemptRecord(outcome));
    // A call that failed after any attempt whose outcome was unknown has an unknown outcome: that
    // attempt may have taken effect, whatever the later ones answered.
    ToolOutcome last = anyUnknown && !outcome.ok() && !outcome.outcomeUnknown()
        ? ToolOutcome.unknown("outcome unknown: an earlier attempt may have taken effect; the last one: "
            + outcome.result(), outcome.statusCode(), outcome.durationMs()) : outcome;
    traced.finished(last, attemptNumber);
    observer.toolCall(tool.name(), last.ok(), Duration.ofNanos(System.nanoTime() - startedNanos));
    if (last.outcomeUnknown()) {
      log.warn("Run {}: the outcome of tool call {} ({}) is unknown: {}", writes.lease.runId(), step.toolCallId(),
          tool.name(), last.result());
    }
    if (last.outcomeUnknown() && !tool.idempotent()) {
      writes.hold(f -> journal.recordUnknownOutcome(f, step.index(), last, lastAttempt));
      progress.update(started.after(StepStatus.Change.OUTCOME_LOST));
      return Executed.OUTCOME_UNKNOWN;
    }
    // An idempotent tool's call of unknown outcome (its retries ran out) ends so, and the model is
    // told so: it decides what to do next.
    writes.hold(f -> journal.finishTool(f, started, last, lastAttempt));
    recordInProgress(progress, started, last);
    return Executed.ANSWERED;
  }

  /** What a held tool result will have written: the step's status and the tool message. */
  private static void recordInProgress(Progress progress, Step step, ToolOutcome outcome) {
    ToolMessages.ToolResult recorded = ToolMessages.ToolResult.of(outcome);
    progress.update(step.after(recorded.change()).endedAt(Instant.now()));
    progress.history.add(ChatMessage.tool(step.toolCallId(), step.name(), recorded.message()));
  }

  private ToolOutcome runTool(ToolDefinition tool, Step step, ToolContext toolContext) {
    if (tool.kind().equals("client")) {
      return ToolOutcome.error("client tools are executed by the API caller", null, 0);
    }
    return executor.execute(tool, rules.parseArguments(step.arguments()), toolContext);
  }

  private boolean shouldRetry(ToolDefinition tool, ToolOutcome outcome, int attemptsMade) {
    return !outcome.ok() && outcome.transientFailure() && tool.idempotent()
        && attemptsMade < toolRetry.maxAttempts() && !Thread.currentThread().isInterrupted();
  }

  private ObjectNode attemptRecord(ToolOutcome outcome) {
    ObjectNode attempt = mapper.createObjectNode();
    if (outcome.statusCode() == null) {
      attempt.putNull("status_code");
    } else {
      attempt.put("status_code", outcome.statusCode());
    }
    attempt.put("error", outcome.ok() ? null : outcome.result());
    attempt.put("duration_ms", outcome.durationMs());
    return attempt;
  }

  private void reportToolError(Writes writes, Progress progress, Step step, String problem) {
    ToolOutcome error = ToolOutcome.error(problem, null, 0);
    writes.hold(f -> journal.finishTool(f, step, error, List.of()));
    recordInProgress(progress, step, error);
  }

  private boolean pause(Writes writes, Context context, String actionType, StepStatus.Change waitFor,
      List<Step> calls) {
    writes.commit(f -> {
      for (Step call : calls) {
        journal.toolWaits(f, call, waitFor);
      }
      journal.requireAction(f, actionType, calls);
    });
    context.trace().paused(actionType);
    return false;
  }

  /** Rounded, not truncated: a sum of durations should not lose half a millisecond per step. */
  private static long millisSince(long nanos) {
    return Math.round((System.nanoTime() - nanos) / 1e6);
  }
}
