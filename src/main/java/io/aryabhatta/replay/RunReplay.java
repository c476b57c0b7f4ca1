package io.aryabhatta.replay;

import io.aryabhatta.engine.ModelRequests;
import io.aryabhatta.engine.ToolCallRules;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Conversation;
import io.aryabhatta.runs.RunMessages;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.PromptTemplate;
import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.audit.AuditLog;

import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.WireFormat;
import io.aryabhatta.replay.ReplayReport.StepReport;
import io.aryabhatta.runs.RunStore.RunState;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.knowledge.KnowledgeTool;
import io.aryabhatta.engine.RunEventLog;
import io.aryabhatta.engine.SubAgents;
import io.aryabhatta.memory.MemoryTool;
import io.aryabhatta.tools.ClientTools;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.workspaces.Caller;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Replays an ended run from its journal, in memory: no model is called and no tool runs. Each
 * model request is rebuilt the way today's loop builds it (system prompt, context window, tools,
 * parameters) from the conversation as it stood, and compared with the request recorded; each
 * recorded response is read again by today's parser and fed on; each tool call is judged by
 * today's rules (known tool, arguments valid against today's schema, approval); the final answer
 * must give the run's output. Nothing about the run is written; the replay itself is audited.
 */
public final class RunReplay {
  /** Per step, more lines than this say little more: the rest is counted. */
  private static final int MOST_DIFFERENCES = 20;

  private final Jdbi jdbi;
  private final RunStore store;
  private final AgentService agents;
  private final ToolService tools;
  private final ToolCallRules rules;
  private final WireFormat wire;
  private final AuditLog audit;
  private final ObjectMapper mapper;
  private final SubAgents subAgents;

  public RunReplay(Jdbi jdbi, RunStore store, RunEventLog events, AgentService agents, ToolService tools,
      ArgumentValidator validator, AuditLog audit, ObjectMapper mapper) {
    this.jdbi = jdbi;
    this.store = store;
    this.agents = agents;
    this.tools = tools;
    this.rules = new ToolCallRules(validator, mapper);
    this.wire = new WireFormat(mapper);
    this.audit = audit;
    this.mapper = mapper;
    this.subAgents = new SubAgents(jdbi, mapper, store, events, agents);
  }

  /** Everything recorded about a run that a replay reads, read together. */
  private record Recorded(RunState state, JsonNode overrides, List<Message> messages, List<Step> steps,
      Map<String, Set<String>> pausedCalls, Set<Integer> startedChildren) {}

  /** The configuration a replay judges the run by. */
  private record Setup(AgentVersion agent, Map<String, ToolDefinition> tools, String systemPrompt) {}

  /**
   * Replays an ended run.
   *
   * @param latest true to judge it by today's latest version of the agent, false by the version
   *     the run pinned (either with the run's own overrides, for a fork)
   * @throws DomainException.NotFound for an unknown run or another workspace's
   * @throws DomainException.Conflict when the run has not ended
   */
  public ReplayReport replay(Caller caller, String runId, boolean latest) {
    Run run = store.run(caller.workspaceId(), runId).orElseThrow(() -> DomainException.NotFound.of("run", runId));
    if (!run.status().isEnded()) {
      throw new DomainException.Conflict("the run has not ended (status " + run.status()
          + "); only a completed, failed or cancelled run can be replayed");
    }
    Recorded recorded = jdbi.withHandle(h -> new Recorded(store.state(h, runId), store.agentOverrides(h, runId),
        store.messages(h, run.conversationId(), 0, Integer.MAX_VALUE), store.steps(h, runId), pausedCalls(h, runId),
        startedChildren(h, runId)));
    Conversation conversation = store.conversation(caller.workspaceId(), run.conversationId()).orElseThrow();

    List<String> runDifferences = new ArrayList<>();
    Setup setup = setup(caller.workspaceId(), run, recorded, variables(conversation.variables()), latest,
        runDifferences);
    List<StepReport> steps = new Replayer(run, recorded, setup, runDifferences).replay();
    boolean deterministic = runDifferences.isEmpty() && steps.stream().allMatch(StepReport::same);
    ReplayReport report = new ReplayReport(runId, latest ? "latest" : "pinned", setup.agent().version(),
        deterministic, runDifferences, steps);
    jdbi.useTransaction(h -> audit.record(h, caller, "run.replayed", "run", runId, Map.of(
        "agent_version", report.agentVersion(), "agent_version_used", report.agentVersionUsed(),
        "deterministic", deterministic)));
    return report;
  }

  // ---- the configuration to judge by ----

  private Setup setup(String workspaceId, Run run, Recorded recorded, Map<String, String> variables, boolean latest,
      List<String> differences) {
    AgentVersion pinned = withOverrides(agents.version(workspaceId, run.agentId(), run.agentVersion()),
        recorded.overrides(), differences);
    AgentVersion agent = latest
        ? withOverrides(agents.version(workspaceId, run.agentId(), null), recorded.overrides(), differences)
        : pinned;

    Set<String> unknown = tools.unknownNames(workspaceId, agent.tools());
    if (!unknown.isEmpty()) {
      differences.add("the agent's tools " + unknown + " no longer exist: today's loop would fail the run"
          + " (configuration_error) before its first step");
    }
    Map<String, ToolDefinition> byName = new LinkedHashMap<>();
    tools.resolve(workspaceId, agent.tools().stream().filter(n -> !unknown.contains(n)).toList())
        .forEach(t -> byName.put(t.name(), t));

    // The loop sends the prompt templated when the run started. For the latest version it is
    // templated again from the conversation's variables; text appended to the agent's prompt at
    // the start (the OpenAI-compatible API's system messages) is kept.
    String stored = recorded.state().systemPrompt();
    String prompt = stored;
    if (latest) {
      Set<String> missing = PromptTemplate.missing(agent.systemPrompt(), variables);
      if (!missing.isEmpty()) {
        differences.add("the system prompt needs variables the conversation does not have: " + missing);
      }
      String pinnedText = PromptTemplate.fill(pinned.systemPrompt(), variables);
      String appended = stored.startsWith(pinnedText) ? stored.substring(pinnedText.length()) : "";
      prompt = PromptTemplate.fill(agent.systemPrompt(), variables) + appended;
    }
    Map<String, ToolDefinition> offered = ClientTools.offeredWith(SubAgents.withAgents(KnowledgeTool.withKnowledge(byName, agent, mapper), agent, mapper),
        recorded.state().clientTools());
    return new Setup(agent, MemoryTool.withMemory(offered, agent, recorded.state().id(),
        recorded.state().memoryKey(), mapper), prompt);
  }

  private AgentVersion withOverrides(AgentVersion base, JsonNode overrides, List<String> differences) {
    if (overrides == null) {
      return base;
    }
    try {
      return agents.withOverrides(base, overrides);
    } catch (DomainException e) {
      differences.add("the run's agent_overrides no longer apply to version " + base.version() + ": " + e.detail());
      return base;
    }
  }

  // ---- walking the journal ----

  /** How the loop disposed of a tool call. */
  private enum Disposal {
    REJECTED("reported to the model as an error without running"),
    AWAITS_OUTPUT("left to the API caller (client tool)"),
    AWAITS_APPROVAL("held for approval"),
    EXECUTED("executed (or started, with its outcome unknown)"),
    CHILD_STARTED("answered by a child run it started (a call of an agent)"),
    NOT_EXECUTED("not executed: the run ended first");

    final String label;

    Disposal(String label) {
      this.label = label;
    }
  }

  /** One replay's walk through the journal, step by step. */
  private final class Replayer {
    private final Run run;
    private final Recorded recorded;
    private final Setup setup;
    private final List<String> runDifferences;
    private final RunMessages messages;
    private final Deque<ToolCall> askedFor = new ArrayDeque<>();
    private int finishedModelCalls;

    Replayer(Run run, Recorded recorded, Setup setup, List<String> runDifferences) {
      this.run = run;
      this.recorded = recorded;
      this.setup = setup;
      this.runDifferences = runDifferences;
      this.messages = RunMessages.of(recorded.messages(), run.id());
    }

    List<StepReport> replay() {
      List<StepReport> reports = new ArrayList<>();
      int answered = 0;
      for (Step step : recorded.steps()) {
        List<String> differences = new ArrayList<>();
        if (step.copiedFromRunId() != null) {
          // Made by the run this one was forked from, under its configuration: history, not a decision.
          if (!step.isToolCall() && step.finished()) {
            finishedModelCalls++;
          }
          if (!step.isToolCall() && step.status() == StepStatus.COMPLETED) {
            answered++;
          }
          reports.add(new StepReport(step.index(), step.type(), true, List.of(), step.copiedFromRunId()));
          continue;
        }
        if (step.isToolCall()) {
          replayToolCall(step, differences);
        } else {
          replayModelCall(step, answered, differences);
          if (step.status() == StepStatus.COMPLETED) {
            answered++;
          }
        }
        reports.add(new StepReport(step.index(), step.type(), differences.isEmpty(), capped(differences), null));
      }
      if (!askedFor.isEmpty()) {
        runDifferences.add("the last response asked for " + askedFor.size() + " tool call(s) the journal does not have");
      }
      JsonNode error = run.error();
      if (error != null && "max_steps_reached".equals(error.path("code").asText())
          && finishedModelCalls < setup.agent().maxSteps()) {
        runDifferences.add("the run stopped at max_steps after " + finishedModelCalls + " model calls; today's"
            + " max_steps is " + setup.agent().maxSteps() + ", so the loop would ask the model again");
      }
      return reports;
    }

    private void replayModelCall(Step step, int answered, List<String> differences) {
      askedFor.clear();
      if (finishedModelCalls >= setup.agent().maxSteps()) {
        differences.add("today's max_steps (" + setup.agent().maxSteps() + ") would have failed the run before"
            + " this model call");
      }
      if (step.finished()) {
        finishedModelCalls++;
      }
      ChatRequest request = ModelRequests.build(setup.systemPrompt(), store.asChat(messages.seenBy(answered)), setup.agent(),
          setup.tools().values(), recorded.state().stream());
      JsonNode today = wire.requestBody(request);
      differences.addAll(JsonDiff.between(step.request(), today, "request"));
      if (step.status() != StepStatus.COMPLETED) {
        return;
      }
      JsonNode parsed = step.response() == null ? null : step.response().get("parsed");
      if (parsed == null) {
        differences.add("response.parsed is missing");
        return;
      }
      JsonNode raw = step.response().get("raw");
      if (raw != null && !raw.isNull()) {
        differences.addAll(JsonDiff.between(relevant(parsed), reparsed(raw), "response.parsed"));
      }
      List<ToolCall> calls = toolCalls(parsed.get("tool_calls"));
      askedFor.addAll(calls);
      if (calls.isEmpty()) {
        String answer = parsed.path("content").isNull() ? null : parsed.path("content").asText(null);
        if (run.status() != RunStatus.COMPLETED) {
          differences.add("this final answer would complete the run; it ended " + run.status());
        } else if (!Objects.equals(normalized(run.output()), normalized(answer))) {
          differences.add("output differs: recorded " + quoted(run.output()) + ", today " + quoted(answer));
        }
      }
    }


    private JsonNode relevant(JsonNode parsed) {
      ObjectNode node = mapper.createObjectNode();
      node.set("content", parsed.path("content").isMissingNode() ? null : parsed.get("content"));
      node.set("tool_calls", parsed.get("tool_calls"));
      node.set("finish_reason", parsed.path("finish_reason").isMissingNode() ? null : parsed.get("finish_reason"));
      return node;
    }

    private JsonNode reparsed(JsonNode raw) {
      WireFormat.Parsed today = wire.parse(raw);
      ObjectNode node = mapper.createObjectNode();
      node.put("content", today.content());
      node.set("tool_calls", mapper.valueToTree(today.toolCalls()));
      node.put("finish_reason", today.finishReason());
      return node;
    }

    private void replayToolCall(Step step, List<String> differences) {
      ToolCall asked = askedFor.pollFirst();
      String label = "tool " + step.name();
      if (asked == null) {
        differences.add(label + ": no model response asked for this call");
      } else if (!asked.name().equals(step.name()) || !Objects.equals(asked.id(), step.toolCallId())
          || !Objects.equals(asked.arguments(), step.arguments())) {
        differences.add(label + ": the response asked for " + asked.name() + " (" + asked.id() + ") with "
            + quoted(asked.arguments()) + ", the journal has " + step.name() + " (" + step.toolCallId() + ") with "
            + quoted(step.arguments()));
      }
      Disposal then = recordedDisposal(step);
      if (then == Disposal.NOT_EXECUTED) {
        return;
      }
      ToolDefinition tool = setup.tools().get(step.name());
      String problem = rules.problem(tool, step.name(), step.arguments(), setup.tools().keySet());
      boolean approval = problem == null && ToolCallRules.needsApproval(setup.agent(), tool);
      boolean ofAgent = problem == null && tool.kind().equals(SubAgents.KIND);
      if (ofAgent && !approval) {
        // Whether today's loop would start the child: the depth, the chain of callers, the agent today.
        problem = subAgents.refusal(recorded.state(), step);
      }
      Disposal now = problem != null ? Disposal.REJECTED
          : tool.kind().equals("client") ? Disposal.AWAITS_OUTPUT
          : approval ? Disposal.AWAITS_APPROVAL
          : ofAgent ? Disposal.CHILD_STARTED
          : Disposal.EXECUTED;
      if (now == Disposal.REJECTED && then != Disposal.REJECTED) {
        differences.add(label + ": " + whyRejected(tool, step, problem) + " (recorded: " + then.label + ")");
      } else if (now == Disposal.REJECTED) {
        if (!problem.equals(step.error())) {
          differences.add(label + ": the error reported to the model differs: recorded " + quoted(step.error())
              + ", today " + quoted(problem));
        }
      } else if (now != then) {
        String detail = then == Disposal.REJECTED ? " (" + step.error() + ")" : "";
        differences.add(label + ": recorded as " + then.label + detail + "; today it would be " + now.label);
      }
    }

    private String whyRejected(ToolDefinition tool, Step step, String problem) {
      if (tool == null) {
        return "not one of the agent's tools today";
      }
      List<String> errors = rules.argumentErrors(tool, step.arguments());
      return errors.isEmpty() ? problem : "arguments no longer valid: " + String.join("; ", errors);
    }

    private Disposal recordedDisposal(Step step) {
      if (step.status() == StepStatus.UNKNOWN_OUTCOME) {
        // The loop set out to execute it; whether it took effect is unknown, never "not executed".
        return Disposal.EXECUTED;
      }
      if (recorded.startedChildren().contains(step.index())) {
        // Its result is the child's outcome (a failed child's too), recorded without attempts; a
        // call whose run ended while its child worked is no "not executed" either.
        return Disposal.CHILD_STARTED;
      }
      if (step.status() == StepStatus.CANCELLED
          || (step.status() == StepStatus.FAILED && step.error() != null && step.error().startsWith("Not executed"))) {
        return Disposal.NOT_EXECUTED;
      }
      if (recorded.pausedCalls().getOrDefault("approve_tool_calls", Set.of()).contains(step.toolCallId())) {
        return Disposal.AWAITS_APPROVAL;
      }
      if (recorded.pausedCalls().getOrDefault("submit_tool_outputs", Set.of()).contains(step.toolCallId())) {
        return Disposal.AWAITS_OUTPUT;
      }
      // The loop records a rejected call with no attempt; every execution records its attempts.
      boolean attempted = step.attempts() != null && !step.attempts().isEmpty();
      if (step.status() == StepStatus.FAILED && !attempted) {
        return Disposal.REJECTED;
      }
      return Disposal.EXECUTED;
    }
  }

  // ---- reading ----

  /** The steps of the run whose calls started a child run. */
  private static Set<Integer> startedChildren(Handle h, String runId) {
    return new HashSet<>(h.createQuery("SELECT parent_step FROM runs WHERE parent_run_id = :r")
        .bind("r", runId).mapTo(Integer.class).list());
  }

  /** The tool call ids each kind of pause ({@code approve_tool_calls}, …) held, from the run's events. */
  private static Map<String, Set<String>> pausedCalls(Handle h, String runId) {
    Map<String, Set<String>> byType = new HashMap<>();
    h.createQuery("""
            SELECT e.data->'required_action'->>'type' AS type, c->>'id' AS id
            FROM run_events e, jsonb_array_elements(e.data->'required_action'->'tool_calls') c
            WHERE e.run_id = :r AND e.type = 'run.requires_action'""")
        .bind("r", runId)
        .map((rs, c) -> Map.entry(rs.getString("type"), rs.getString("id")))
        .forEach(e -> byType.computeIfAbsent(e.getKey(), k -> new HashSet<>()).add(e.getValue()));
    return byType;
  }

  private List<ToolCall> toolCalls(JsonNode calls) {
    List<ToolCall> list = new ArrayList<>();
    if (calls != null && calls.isArray()) {
      calls.forEach(c -> list.add(new ToolCall(c.path("id").asText(null), c.path("name").asText(""),
          c.path("arguments").asText(null))));
    }
    return list;
  }

  private static Map<String, String> variables(JsonNode node) {
    Map<String, String> vars = new LinkedHashMap<>();
    if (node != null) {
      node.properties().forEach(e -> vars.put(e.getKey(),
          e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    }
    return vars;
  }

  private static String normalized(String text) {
    return text == null ? "" : text;
  }

  private static String quoted(String text) {
    return text == null ? "null" : JsonDiff.shortly(TextNode.valueOf(text));
  }

  private static List<String> capped(List<String> differences) {
    if (differences.size() <= MOST_DIFFERENCES) {
      return differences;
    }
    List<String> shown = new ArrayList<>(differences.subList(0, MOST_DIFFERENCES));
    shown.add("… and " + (differences.size() - MOST_DIFFERENCES) + " more");
    return shown;
  }
}
