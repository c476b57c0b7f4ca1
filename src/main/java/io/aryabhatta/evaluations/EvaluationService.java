package io.aryabhatta.evaluations;

import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.db.Rows;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.audit.AuditLog;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.Streaming;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.Step;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.ParameterSchemas;
import io.aryabhatta.workspaces.Caller;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jdbi.v3.core.Jdbi;

/**
 * Saved test cases per agent, and evaluations: every case run against one agent version, each
 * expectation checked against the run's journal, the outcome stored as a report.
 */
public final class EvaluationService {
  private static final Duration CASE_TIMEOUT = Duration.ofSeconds(120);
  private static final int PARALLEL_CASES = 8;
  private static final int MAX_CASES = 100;

  private final Jdbi jdbi;
  private final AgentService agents;
  private final RunService runs;
  private final RunStore store;
  private final ArgumentValidator validator;
  private final ParameterSchemas schemas;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;

  public EvaluationService(Jdbi jdbi, AgentService agents, RunService runs, RunStore store,
      ArgumentValidator validator, ParameterSchemas schemas, AuditLog audit, Ids ids, ObjectMapper mapper) {
    this.jdbi = jdbi;
    this.agents = agents;
    this.runs = runs;
    this.store = store;
    this.validator = validator;
    this.schemas = schemas;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
  }

  public record CaseInput(String name, String input, Map<String, String> variables, Expectations expect) {}

  public EvaluationCase createCase(Caller caller, String agentId, CaseInput in) {
    String prompt = agents.version(caller.workspaceId(), agentId, null).systemPrompt();
    validate(in);
    // As a run refuses them: a case with an empty variable would never start.
    io.aryabhatta.runs.PromptTemplate.refuseEmpty(prompt, in.variables() == null ? Map.of() : in.variables());
    String id = ids.next();
    jdbi.useTransaction(h -> {
      h.createUpdate("""
              INSERT INTO evaluation_cases (id, workspace_id, agent_id, name, input, variables, expect)
              VALUES (:id, :w, :a, :n, :i, cast(:v AS jsonb), cast(:e AS jsonb))""")
          .bind("id", id).bind("w", caller.workspaceId()).bind("a", agentId).bind("n", in.name())
          .bind("i", in.input()).bind("v", Json.write(mapper, in.variables() == null ? Map.of() : in.variables()))
          .bind("e", Json.write(mapper, in.expect()))
          .execute();
      audit.record(h, caller, "evaluation_case.created", "evaluation_case", id, Map.of("agent_id", agentId));
    });
    return findCase(caller.workspaceId(), id);
  }

  private void validate(CaseInput in) {
    List<FieldError> errors = new ArrayList<>();
    if (in.name() == null || in.name().isBlank() || in.name().length() > 200) {
      errors.add(new FieldError("name", "is required, at most 200 characters"));
    }
    if (in.input() == null || in.input().isBlank()) {
      errors.add(new FieldError("input", "is required"));
    }
    Expectations e = in.expect();
    if (e == null || (e.toolCalled() == null && e.outputContains() == null && e.outputMatches() == null
        && e.outputSchema() == null)) {
      errors.add(new FieldError("expect", "needs at least one of tool_called, output_contains, output_matches, "
          + "output_schema"));
    } else {
      if (e.toolArguments() != null && e.toolCalled() == null) {
        errors.add(new FieldError("expect.tool_arguments", "needs expect.tool_called"));
      }
      if (e.toolArguments() != null) {
        schemas.problems(e.toolArguments(), false)
            .forEach(p -> errors.add(new FieldError("expect.tool_arguments", p)));
      }
      if (e.outputSchema() != null) {
        schemas.problems(e.outputSchema(), false).forEach(p -> errors.add(new FieldError("expect.output_schema", p)));
      }
      if (e.outputMatches() != null) {
        try {
          Pattern.compile(e.outputMatches());
        } catch (PatternSyntaxException ex) {
          errors.add(new FieldError("expect.output_matches", "is not a valid regular expression: "
              + ex.getDescription()));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
  }

  public List<EvaluationCase> cases(String workspaceId, String agentId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, agent_id, name, input, variables::text AS variables, expect::text AS expect, created_at
            FROM evaluation_cases WHERE workspace_id = :w AND agent_id = :a ORDER BY id LIMIT :max""")
        .bind("w", workspaceId).bind("a", agentId).bind("max", MAX_CASES)
        .map((rs, c) -> toCase(rs))
        .list());
  }

  public EvaluationCase findCase(String workspaceId, String id) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, agent_id, name, input, variables::text AS variables, expect::text AS expect, created_at
            FROM evaluation_cases WHERE workspace_id = :w AND id = :id""")
        .bind("w", workspaceId).bind("id", id)
        .map((rs, c) -> toCase(rs))
        .findOne()).orElseThrow(() -> DomainException.NotFound.of("evaluation case", id));
  }

  public void deleteCase(Caller caller, String id) {
    findCase(caller.workspaceId(), id);
    jdbi.useTransaction(h -> {
      h.createUpdate("DELETE FROM evaluation_cases WHERE id = :id AND workspace_id = :w")
          .bind("id", id).bind("w", caller.workspaceId()).execute();
      audit.record(h, caller, "evaluation_case.deleted", "evaluation_case", id, Map.of());
    });
  }

  /** Runs every case of the agent against {@code version} (null: the latest) and stores the report. */
  public EvaluationReport evaluate(Caller caller, String agentId, Integer version) {
    AgentVersion agent = agents.version(caller.workspaceId(), agentId, version);
    List<EvaluationCase> cases = cases(caller.workspaceId(), agentId);
    if (cases.isEmpty()) {
      throw new DomainException.Unprocessable("no-evaluation-cases",
          "the agent has no evaluation cases; add some with POST /api/agents/" + agentId + "/evaluation_cases");
    }
    Instant started = Instant.now();
    List<CaseResult> results = new ArrayList<>();
    Semaphore parallel = new Semaphore(PARALLEL_CASES);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<CaseResult>> futures = new ArrayList<>();
      for (EvaluationCase c : cases) {
        futures.add(pool.submit(() -> {
          parallel.acquire();
          try {
            return runCase(caller, agent, c);
          } finally {
            parallel.release();
          }
        }));
      }
      for (Future<CaseResult> f : futures) {
        results.add(f.get());
      }
    } catch (Exception e) {
      throw new IllegalStateException("evaluation interrupted", e);
    }
    int passed = (int) results.stream().filter(CaseResult::passed).count();
    String id = ids.next();
    jdbi.useTransaction(h -> {
      h.createUpdate("""
              INSERT INTO evaluation_reports (id, workspace_id, agent_id, agent_version, passed, failed, cases,
                                              created_at, finished_at)
              VALUES (:id, :w, :a, :v, :p, :f, cast(:c AS jsonb), :created, now())""")
          .bind("id", id).bind("w", caller.workspaceId()).bind("a", agentId).bind("v", agent.version())
          .bind("p", passed).bind("f", results.size() - passed).bind("c", Json.write(mapper, results))
          .bind("created", started)
          .execute();
      audit.record(h, caller, "evaluation.completed", "evaluation", id,
          Map.of("agent_id", agentId, "agent_version", agent.version(), "passed", passed,
              "failed", results.size() - passed));
    });
    return report(caller.workspaceId(), id);
  }

  private CaseResult runCase(Caller caller, AgentVersion agent, EvaluationCase c) throws InterruptedException {
    long t0 = System.nanoTime();
    Run run;
    try {
      run = runs.startRunOfAgent(caller, agent.agentId(), agent.version(), c.input(), c.variables(), null, Streaming.TEXT_AS_WRITTEN);
    } catch (DomainException e) {
      return new CaseResult(c.id(), c.name(), false, List.of("the run could not start: " + e.detail()), null,
          null, null, 0, 0, 0);
    }
    run = runs.awaitSettled(caller, run, CASE_TIMEOUT);
    List<String> failures = new ArrayList<>();
    if (!run.status().isEnded()) {
      failures.add(run.status() == RunStatus.REQUIRES_ACTION
          ? "the run needed action (" + run.requiredAction().path("type").asText() + "); evaluations do not approve"
          : "the run did not end within " + CASE_TIMEOUT.toSeconds() + " s");
      try {
        run = runs.cancel(caller, run.id());
      } catch (DomainException.Conflict endedMeanwhile) {
        run = runs.run(caller, run.id());
      }
    } else if (run.status() != RunStatus.COMPLETED) {
      failures.add("the run " + run.status() + (run.error() == null ? "" : ": " + run.error().path("message").asText()));
    }
    List<Step> steps = store.steps(run.id());
    failures.addAll(check(c.expect(), run.output(), steps));
    return new CaseResult(c.id(), c.name(), failures.isEmpty(), failures, run.id(), run.status().wire(), run.output(),
        steps.size(), run.usage().totalTokens(), (System.nanoTime() - t0) / 1_000_000);
  }

  /** The expectations that do not hold, as messages. */
  List<String> check(Expectations e, String output, List<Step> steps) {
    List<String> failures = new ArrayList<>();
    if (e.toolCalled() != null) {
      List<Step> calls = steps.stream().filter(s -> s.isToolCall() && e.toolCalled().equals(s.name())).toList();
      if (calls.isEmpty()) {
        failures.add("tool '" + e.toolCalled() + "' was not called");
      } else if (e.toolArguments() != null && calls.stream().noneMatch(s -> argumentsMatch(e.toolArguments(), s))) {
        failures.add("no call of '" + e.toolCalled() + "' had arguments matching the schema");
      }
    }
    String text = output == null ? "" : output;
    if (e.outputContains() != null && !text.contains(e.outputContains())) {
      failures.add("the output does not contain '" + e.outputContains() + "'");
    }
    if (e.outputMatches() != null && !Pattern.compile(e.outputMatches()).matcher(text).find()) {
      failures.add("the output does not match /" + e.outputMatches() + "/");
    }
    if (e.outputSchema() != null) {
      JsonNode parsed = Json.treeOrNull(mapper, text);
      if (parsed == null) {
        failures.add("the output is not JSON");
      } else {
        validator.validate(e.outputSchema(), parsed).forEach(m -> failures.add("output: " + m));
      }
    }
    return failures;
  }

  private boolean argumentsMatch(JsonNode schema, Step call) {
    JsonNode args = Json.treeOrNull(mapper, call.arguments());
    return args != null && validator.validate(schema, args).isEmpty();
  }

  public EvaluationReport report(String workspaceId, String id) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, agent_id, agent_version, passed, failed, cases::text AS cases, created_at, finished_at
            FROM evaluation_reports WHERE workspace_id = :w AND id = :id""")
        .bind("w", workspaceId).bind("id", id)
        .map((rs, c) -> new EvaluationReport(rs.getString("id"), rs.getString("agent_id"), rs.getInt("agent_version"),
            rs.getInt("passed"), rs.getInt("failed"), readResults(rs.getString("cases")),
            Rows.instant(rs, "created_at"),
            Rows.instant(rs, "finished_at")))
        .findOne()).orElseThrow(() -> DomainException.NotFound.of("evaluation", id));
  }

  public List<EvaluationReport> reports(String workspaceId, String agentId) {
    List<String> idsOf = jdbi.withHandle(h -> h.createQuery("""
            SELECT id FROM evaluation_reports WHERE workspace_id = :w AND agent_id = :a ORDER BY id DESC LIMIT 50""")
        .bind("w", workspaceId).bind("a", agentId).mapTo(String.class).list());
    return idsOf.stream().map(id -> report(workspaceId, id)).toList();
  }

  private List<CaseResult> readResults(String json) {
    try {
      return mapper.readValue(json, mapper.getTypeFactory().constructCollectionType(List.class, CaseResult.class));
    } catch (Exception e) {
      throw new IllegalStateException("unreadable evaluation report", e);
    }
  }

  private EvaluationCase toCase(java.sql.ResultSet rs) throws java.sql.SQLException {
    try {
      Map<String, String> vars = mapper.readValue(rs.getString("variables"),
          mapper.getTypeFactory().constructMapType(Map.class, String.class, String.class));
      return new EvaluationCase(rs.getString("id"), rs.getString("agent_id"), rs.getString("name"),
          rs.getString("input"), vars, mapper.readValue(rs.getString("expect"), Expectations.class),
          Rows.instant(rs, "created_at"));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("unreadable evaluation case", e);
    }
  }
}
