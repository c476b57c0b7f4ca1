package io.aryabhatta.runs;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.Page;
import io.aryabhatta.http.PageRequest;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Conversations, runs, their journal and their event stream. */
public final class RunRoutes {
  private static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);
  private static final Duration MAX_WAIT = Duration.ofSeconds(300);

  private final RunService runs;
  private final RunStore store;
  private final EventStream events;
  private final JsonBody body;
  private final Idempotency idempotency;
  private final ObjectMapper mapper;

  public RunRoutes(RunService runs, RunStore store, EventStream events, JsonBody body,
      Idempotency idempotency, ObjectMapper mapper) {
    this.runs = runs;
    this.store = store;
    this.events = events;
    this.body = body;
    this.idempotency = idempotency;
    this.mapper = mapper;
  }

  record CreateConversation(String agentId, Map<String, Object> variables, JsonNode metadata, String memoryKey) {}

  record CreateRun(String input, String callbackUrl) {}

  record CreateAgentRun(String input, Map<String, Object> variables, JsonNode metadata, String memoryKey,
      String callbackUrl) {}

  record Approvals(List<RunService.Decision> decisions) {}

  record ToolOutputs(List<RunService.ToolOutput> toolOutputs) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/conversations", idempotency.wrap(this::createConversation));
    routes.get("/api/conversations", this::conversations);
    routes.get("/api/conversations/{id}", ctx -> ctx.json(runs.conversation(Auth.caller(ctx), ctx.pathParam("id"))));
    routes.get("/api/conversations/{id}/messages", this::messages);
    routes.get("/api/conversations/{id}/runs", this::runsOfConversation);
    routes.post("/api/conversations/{id}/runs", idempotency.wrap(this::createRun));
    routes.post("/api/agents/{id}/runs", idempotency.wrap(this::createAgentRun));
    routes.get("/api/runs/{id}", ctx -> ctx.json(runs.run(Auth.caller(ctx), ctx.pathParam("id"))));
    routes.get("/api/runs/{id}/steps", this::steps);
    routes.get("/api/runs/{id}/children", ctx -> ctx.json(Map.of("data",
        runs.children(Auth.caller(ctx), ctx.pathParam("id")))));
    routes.get("/api/runs/{id}/events", this::events);
    // A client retrying after a lost response learns that its input was taken, instead of a 409.
    routes.post("/api/runs/{id}/cancel",
        idempotency.wrap(ctx -> ctx.json(runs.cancel(Auth.caller(ctx), ctx.pathParam("id")))));
    routes.post("/api/runs/{id}/approvals", idempotency.wrap(this::approvals));
    routes.post("/api/runs/{id}/tool_outputs", idempotency.wrap(this::toolOutputs));
  }

  private void createConversation(Context ctx) {
    CreateConversation request = body.read(ctx, CreateConversation.class);
    require(request.agentId(), "agent_id");
    ctx.status(201).json(runs.createConversation(Auth.caller(ctx), request.agentId(), variables(request.variables()),
        metadata(request.metadata()), request.memoryKey()));
  }

  private void createRun(Context ctx) throws Exception {
    CreateRun request = body.read(ctx, CreateRun.class);
    Caller caller = Auth.caller(ctx);
    String input = input(request.input());
    boolean stream = flag(ctx, "stream");
    answer(ctx, caller, runs.startRun(caller, ctx.pathParam("id"), input, Streaming.TEXT_AS_WRITTEN,
        request.callbackUrl()), stream);
  }

  private void createAgentRun(Context ctx) throws Exception {
    CreateAgentRun request = body.read(ctx, CreateAgentRun.class);
    Caller caller = Auth.caller(ctx);
    String input = input(request.input());
    Run run = runs.startRunOfAgent(caller, ctx.pathParam("id"), null, input, variables(request.variables()),
        metadata(request.metadata()), request.memoryKey(), Streaming.TEXT_AS_WRITTEN, request.callbackUrl());
    answer(ctx, caller, run, flag(ctx, "stream"));
  }

  /** The three modes: the run at once (201), after it settles ({@code ?wait=true}), or its event stream. */
  private void answer(Context ctx, Caller caller, Run run, boolean stream) throws Exception {
    if (stream) {
      events.write(ctx, caller.workspaceId(), run.id(), 0);
      return;
    }
    if (flag(ctx, "wait")) {
      ctx.status(200).json(runs.awaitSettled(caller, run, waitTimeout(ctx)));
      return;
    }
    ctx.status(201).json(run);
  }

  /** Newest first; {@code ?agent_id=} narrows to one agent's conversations. */
  private void conversations(Context ctx) {
    Caller caller = Auth.caller(ctx);
    PageRequest page = PageRequest.from(ctx);
    String agentId = ctx.queryParam("agent_id");
    ctx.json(page.page(store.conversations(caller.workspaceId(), agentId == null || agentId.isBlank() ? null : agentId,
        page.after(), page.fetchSize()), Conversation::id));
  }

  private void messages(Context ctx) {
    Caller caller = Auth.caller(ctx);
    runs.conversation(caller, ctx.pathParam("id"));
    PageRequest page = PageRequest.from(ctx);
    int after = page.after() == null ? 0 : parseInt(page.after(), "after");
    List<Message> rows = store.messages(ctx.pathParam("id"), after, page.fetchSize());
    ctx.json(page.page(rows, m -> Integer.toString(m.seq())));
  }

  private void runsOfConversation(Context ctx) {
    Caller caller = Auth.caller(ctx);
    runs.conversation(caller, ctx.pathParam("id"));
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(store.runsOfConversation(caller.workspaceId(), ctx.pathParam("id"), page.after(),
        page.fetchSize()), Run::id));
  }

  private void steps(Context ctx) {
    Run run = runs.run(Auth.caller(ctx), ctx.pathParam("id"));
    ctx.json(new Page<>(store.steps(run.id()).stream().map(this::view).toList(), null));
  }

  private void events(Context ctx) throws Exception {
    Caller caller = Auth.caller(ctx);
    Run run = runs.run(caller, ctx.pathParam("id"));
    long after = eventCursor(ctx);
    if ("json".equals(ctx.queryParam("format"))) {
      int limit = PageRequest.limit(ctx);
      List<RunEvent> rows = store.events(run.id(), after, limit + 1);
      boolean more = rows.size() > limit;
      List<RunEvent> data = more ? rows.subList(0, limit) : rows;
      ctx.json(new Page<>(data, more ? Long.toString(data.get(data.size() - 1).id()) : null));
      return;
    }
    events.write(ctx, caller.workspaceId(), run.id(), after);
  }

  private long eventCursor(Context ctx) {
    String value = ctx.queryParam("after");
    if (value == null) {
      value = ctx.header("Last-Event-ID");
    }
    if (value == null || value.isBlank()) {
      return 0;
    }
    try {
      long n = Long.parseLong(value.strip());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new DomainException.ValidationFailed("after", "must be an event id (a non-negative integer)");
    }
  }

  private void approvals(Context ctx) {
    Approvals request = body.read(ctx, Approvals.class);
    if (request.decisions() == null || request.decisions().isEmpty()) {
      throw new DomainException.ValidationFailed("decisions", "must list a decision for each tool call");
    }
    for (int i = 0; i < request.decisions().size(); i++) {
      if (request.decisions().get(i).approve() == null) {
        throw new DomainException.ValidationFailed("decisions[" + i + "].approve", "must be true or false");
      }
    }
    ctx.json(runs.approve(Auth.caller(ctx), ctx.pathParam("id"), request.decisions()));
  }

  private void toolOutputs(Context ctx) {
    ToolOutputs request = body.read(ctx, ToolOutputs.class);
    if (request.toolOutputs() == null || request.toolOutputs().isEmpty()) {
      throw new DomainException.ValidationFailed("tool_outputs", "must list an output for each tool call");
    }
    ctx.json(runs.submitToolOutputs(Auth.caller(ctx), ctx.pathParam("id"), request.toolOutputs()));
  }

  /** A step as the journal API shows it: model calls and tool calls have their own fields. */
  private Map<String, Object> view(Step s) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("index", s.index());
    v.put("type", s.type());
    v.put("status", s.status());
    v.put("started_at", s.startedAt());
    v.put("ended_at", s.endedAt());
    v.put("duration_ms", s.durationMs());
    if (s.isToolCall()) {
      v.put("tool_call_id", s.toolCallId());
      v.put("name", s.name());
      v.put("arguments", Json.parsedOrText(mapper, s.arguments()));
      v.put("result", s.result());
      v.put("error", s.error());
      v.put("idempotency_key", s.idempotencyKey());
      v.put("decision_reason", s.decisionReason());
      v.put("executed_as", s.executedAs());
    } else {
      v.put("request", s.request());
      v.put("response", s.response());
      v.put("usage", s.usage());
      v.put("error", s.error());
    }
    v.put("attempts", s.attempts());
    v.put("copied_from_run_id", s.copiedFromRunId());
    return v;
  }

  private static String input(String input) {
    if (input == null || input.isBlank()) {
      throw new DomainException.ValidationFailed("input", "is required and must be a non-empty string");
    }
    return input;
  }

  private static void require(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new DomainException.ValidationFailed(field, "is required");
    }
  }

  private static Map<String, String> variables(Map<String, Object> raw) {
    Map<String, String> vars = new LinkedHashMap<>();
    if (raw != null) {
      raw.forEach((k, v) -> {
        if (v == null || v instanceof Map || v instanceof List) {
          throw new DomainException.ValidationFailed("variables." + k, "must be a string, number or boolean");
        }
        vars.put(k, v.toString());
      });
    }
    return vars;
  }

  private JsonNode metadata(JsonNode metadata) {
    if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
      throw new DomainException.ValidationFailed("metadata", "must be an object");
    }
    return metadata == null || metadata.isNull() ? mapper.createObjectNode() : metadata;
  }

  private static boolean flag(Context ctx, String name) {
    String v = ctx.queryParam(name);
    return v != null && (v.isEmpty() || v.equals("true") || v.equals("1"));
  }

  private static Duration waitTimeout(Context ctx) {
    String v = ctx.queryParam("timeout");
    if (v == null) {
      return DEFAULT_WAIT;
    }
    int seconds = parseInt(v, "timeout");
    if (seconds < 1 || seconds > MAX_WAIT.toSeconds()) {
      throw new DomainException.ValidationFailed("timeout", "must be between 1 and " + MAX_WAIT.toSeconds() + " seconds");
    }
    return Duration.ofSeconds(seconds);
  }

  private static int parseInt(String value, String field) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new DomainException.ValidationFailed(field, "must be an integer");
    }
  }
}
