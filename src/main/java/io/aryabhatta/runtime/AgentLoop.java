package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.ModelSettings;
import io.aryabhatta.http.ApiException;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.model.ModelCallException;
import io.aryabhatta.model.ModelClient;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.runtime.RunStore.RunState;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolExecutor;
import io.aryabhatta.tools.ToolOutcome;
import io.aryabhatta.tools.ToolService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  private final ToolService tools;
  private final ProviderService providers;
  private final ModelClient models;
  private final ToolExecutor executor;
  private final ToolRetryPolicy toolRetry;
  private final ObjectMapper mapper;
  private final RunObserver observer;
  private final ToolCallRules rules;

  public AgentLoop(Jdbi jdbi, RunStore store, Journal journal, AgentService agents, ToolService tools,
      ProviderService providers, ModelClient models, ToolExecutor executor, ArgumentValidator validator,
      ToolRetryPolicy toolRetry, ObjectMapper mapper, RunObserver observer) {
    this.observer = observer;
    this.jdbi = jdbi;
    this.store = store;
    this.journal = journal;
    this.agents = agents;
    this.tools = tools;
    this.providers = providers;
    this.models = models;
    this.executor = executor;
    this.toolRetry = toolRetry;
    this.mapper = mapper;
    this.rules = new ToolCallRules(validator, mapper);
  }

  /**
   * What a run works with: its row, the pinned agent version (with the run's overrides, if it was
   * forked with some) and that version's tools by name.
   */
  private record Context(RunState run, AgentVersion agent, Map<String, ToolDefinition> tools) {}

  /** The run's row and journal, read together at the top of each turn. */
  private record Snapshot(RunState run, List<Step> steps) {}

  /**
   * Drives the run held by {@code lease} until it ends, needs a person, the lease is lost, or this
   * process shuts down (then it stops at the next step boundary and the run's lease is released).
   */
  void drive(Lease lease, Execution execution) {
    jdbi.useTransaction(h -> journal.markRunning(h, lease));
    Context context = load(lease);
    if (context == null) {
      return;
    }
    while (!execution.stopping()) {
      Snapshot snapshot = jdbi.withHandle(h -> new Snapshot(store.state(h, lease.runId()), store.steps(h, lease.runId())));
      RunState run = snapshot.run();
      if (!run.status().equals("running")) {
        return;
      }
      if (run.cancelRequested()) {
        jdbi.useTransaction(h -> journal.cancelRun(h, lease));
        return;
      }
      List<Step> steps = snapshot.steps();
      List<Step> open = steps.stream().filter(s -> s.isToolCall() && !s.finished()).toList();
      if (!open.isEmpty()) {
        if (!answerToolCalls(lease, context, open, execution)) {
          return;
        }
        continue;
      }
      // A model call left unanswered by a crash is made again (in the same step), not counted twice.
      long modelCalls = steps.stream().filter(s -> !s.isToolCall() && s.finished()).count();
      if (modelCalls >= context.agent().maxSteps()) {
        jdbi.useTransaction(h -> journal.failRun(h, lease, "max_steps_reached",
            "the agent used all " + context.agent().maxSteps() + " steps (max_steps) without a final answer"));
        return;
      }
      askModel(lease, context, execution);
    }
  }

  /** Ends a run the loop could not drive because of a bug of ours, if the lease still allows it. */
  void failAfterUnexpectedError(Lease lease, RuntimeException error) {
    try {
      jdbi.useTransaction(h -> journal.failRun(h, lease, "internal_error",
          "the run stopped on an unexpected error (" + error.getClass().getSimpleName() + "); see the server log"));
    } catch (RuntimeException e) {
      log.warn("Run {}: could not record the failure ({})", lease.runId(), e.getClass().getSimpleName());
    }
  }

  private Context load(Lease lease) {
    RunState run = jdbi.withHandle(h -> store.state(h, lease.runId()));
    try {
      AgentVersion pinned = agents.version(run.workspaceId(), run.agentId(), run.agentVersion());
      JsonNode overrides = jdbi.withHandle(h -> store.agentOverrides(h, run.id()));
      AgentVersion agent = overrides == null ? pinned : agents.withOverrides(pinned, overrides);
      Map<String, ToolDefinition> byName = new LinkedHashMap<>();
      tools.resolve(run.workspaceId(), agent.tools()).forEach(t -> byName.put(t.name(), t));
      return new Context(run, agent, byName);
    } catch (ApiException e) {
      jdbi.useTransaction(h -> journal.failRun(h, lease, "configuration_error",
          "the agent's definition cannot be used: " + e.detail()));
      return null;
    }
  }

  // ---- asking the model ----

  private void askModel(Lease lease, Context context, Execution execution) {
    ModelSettings settings = context.agent().model();
    ModelEndpoint endpoint;
    try {
      endpoint = providers.endpoint(context.run().workspaceId(), settings.provider());
    } catch (ApiException e) {
      jdbi.useTransaction(h -> journal.failRun(h, lease, "provider_not_configured", e.detail()));
      return;
    }
    List<ChatMessage> history = jdbi.withHandle(h -> store.history(h, context.run().conversationId()));
    ChatRequest request = ModelRequests.build(context.run().systemPrompt(), history, context.agent(),
        context.tools().values(), context.run().stream());

    int index = jdbi.inTransaction(h -> journal.startModelCall(h, lease, mapper.valueToTree(request)));
    DeltaSink deltas = new DeltaSink(jdbi, journal, lease, execution);
    long started = System.nanoTime();
    ChatResult result;
    try {
      execution.modelCall(true);
      result = models.complete(endpoint, request, deltas::accept);
    } catch (ModelCallException e) {
      execution.modelCall(false);
      Thread.interrupted();
      deltas.flush();
      long ms = millisSince(started);
      if (e instanceof ModelCallException.Cancelled) {
        jdbi.useTransaction(h -> journal.cancelModelCall(h, lease, index, e.attempts(), ms));
        return;
      }
      log.warn("Run {}: model call failed: {}", lease.runId(), e.getMessage());
      observer.modelCall(settings.provider(), settings.name(), e.kind(), Duration.ofMillis(ms), null);
      jdbi.useTransaction(h -> journal.failModelCall(h, lease, index, "model_" + e.kind(), e.getMessage(),
          e.attempts(), ms));
      return;
    } finally {
      execution.modelCall(false);
    }
    Thread.interrupted();
    long ms = millisSince(started);
    ChatResult answer = result;
    // The last text deltas commit with the answer (one commit less); completeModelCall fences the
    // transaction, so without the lease neither is written.
    jdbi.useTransaction(h -> {
      deltas.flush(h);
      journal.completeModelCall(h, lease, context.run().conversationId(), index, answer, answer.toolCalls(), ms);
    });
    observer.modelCall(settings.provider(), settings.name(), "ok", Duration.ofMillis(ms), answer.usage());
  }

  // ---- answering the model's tool calls ----

  /**
   * Executes, in order, the tool calls that can run now. Returns false when the run must wait for
   * a person (approval, client output, or an unknown outcome to settle).
   */
  private boolean answerToolCalls(Lease lease, Context context, List<Step> open, Execution execution) {
    List<Step> awaitingApproval = new ArrayList<>();
    List<Step> awaitingOutput = new ArrayList<>();
    List<Step> unknownOutcome = new ArrayList<>();
    boolean first = true;
    for (Step step : open) {
      // Before the first call, the turn's snapshot has just said the run is not cancelled.
      if (execution.stopping() || (!first && cancelRequested(lease))) {
        return true;
      }
      first = false;
      ToolDefinition tool = context.tools().get(step.name());
      switch (step.status()) {
        case "pending" -> {
          String problem = checkCall(tool, step, context);
          if (problem != null) {
            reportToolError(lease, context, step, problem);
          } else if (tool.kind().equals("client")) {
            awaitingOutput.add(step);
          } else if (needsApproval(context.agent(), tool)) {
            awaitingApproval.add(step);
          } else {
            execute(lease, context, step, tool);
          }
        }
        case "approved" -> execute(lease, context, step, tool);
        case "awaiting_approval" -> awaitingApproval.add(step);
        case "awaiting_output" -> awaitingOutput.add(step);
        case "started" -> {
          // The process that started this call died (or stalled and lost its lease) before
          // recording its outcome. Executing it again is safe only for an idempotent tool, and
          // then with the same idempotency key; otherwise a person decides.
          if (tool != null && tool.idempotent()) {
            execute(lease, context, step, tool);
          } else {
            unknownOutcome.add(step);
          }
        }
        case "unknown_outcome" -> unknownOutcome.add(step);
        default -> throw new IllegalStateException("unexpected tool step status " + step.status());
      }
    }
    if (!unknownOutcome.isEmpty()) {
      return pause(lease, "resolve_unknown_outcome", "unknown_outcome", unknownOutcome);
    }
    if (!awaitingApproval.isEmpty()) {
      return pause(lease, "approve_tool_calls", "awaiting_approval", awaitingApproval);
    }
    if (!awaitingOutput.isEmpty()) {
      return pause(lease, "submit_tool_outputs", "awaiting_output", awaitingOutput);
    }
    return true;
  }

  /** Why a call cannot run (reported to the model, which may correct itself), or null. */
  private String checkCall(ToolDefinition tool, Step step, Context context) {
    return rules.problem(tool, step.name(), step.arguments(), context.tools().keySet());
  }

  private static boolean needsApproval(AgentVersion agent, ToolDefinition tool) {
    return ToolCallRules.needsApproval(agent, tool);
  }

  /**
   * Executes one tool call: {@code started} commits first, then the tool runs, then its result and
   * the tool message commit together. An idempotent tool that fails transiently is tried again,
   * with the same idempotency key, up to the retry policy's bound; each failed attempt is committed
   * to the step before the next one starts.
   */
  private void execute(Lease lease, Context context, Step step, ToolDefinition tool) {
    jdbi.useTransaction(h -> journal.startTool(h, lease, step.index()));
    long started = System.nanoTime();
    ToolContext toolContext = new ToolContext(context.run().workspaceId(), step.idempotencyKey());
    int attemptNumber = 1;
    ToolOutcome outcome = runTool(tool, step, toolContext);
    while (shouldRetry(tool, outcome, attemptNumber)) {
      ToolOutcome failed = outcome;
      boolean live = jdbi.inTransaction(h -> journal.recordToolAttemptBeforeRetry(h, lease, step.index(),
          attemptRecord(failed)));
      if (!live) {
        throw new LeaseLostException(lease.runId());
      }
      attemptNumber++;
      log.info("Run {}: retrying idempotent tool {} (attempt {} of {}) after: {}", lease.runId(), tool.name(),
          attemptNumber, toolRetry.maxAttempts(), failed.result());
      if (!sleep(toolRetry.backoffBefore(attemptNumber).toMillis()) || cancelRequested(lease)) {
        break;
      }
      outcome = runTool(tool, step, toolContext);
    }
    ToolOutcome last = outcome;
    jdbi.useTransaction(h -> journal.finishTool(h, lease, context.run().conversationId(), step, last,
        List.of(attemptRecord(last))));
    observer.toolCall(tool.name(), last.ok(), Duration.ofNanos(System.nanoTime() - started));
  }

  private ToolOutcome runTool(ToolDefinition tool, Step step, ToolContext toolContext) {
    if (tool.kind().equals("client")) {
      return ToolOutcome.error("client tools are executed by the API caller", null, 0);
    }
    return executor.execute(tool, parseArguments(step.arguments()), toolContext);
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

  /** False when interrupted (the interrupt flag is kept for the caller). */
  private static boolean sleep(long millis) {
    try {
      Thread.sleep(millis);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void reportToolError(Lease lease, Context context, Step step, String problem) {
    jdbi.useTransaction(h -> journal.finishTool(h, lease, context.run().conversationId(), step,
        ToolOutcome.error(problem, null, 0), List.of()));
  }

  private boolean pause(Lease lease, String actionType, String stepStatus, List<Step> calls) {
    jdbi.useTransaction(h -> {
      for (Step call : calls) {
        journal.setToolStatus(h, lease, call.index(), stepStatus);
      }
      journal.requireAction(h, lease, actionType, calls);
    });
    return false;
  }

  private boolean cancelRequested(Lease lease) {
    return jdbi.withHandle(h -> store.state(h, lease.runId())).cancelRequested();
  }

  private JsonNode parseArguments(String text) {
    try {
      JsonNode node = mapper.readTree(text == null || text.isBlank() ? "{}" : text);
      return node != null && node.isObject() ? node : null;
    } catch (Exception e) {
      return null;
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
