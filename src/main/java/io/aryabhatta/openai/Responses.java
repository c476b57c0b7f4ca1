package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.workspaces.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

/**
 * The Responses API's work: a response is a run of the named agent. {@code previous_response_id}
 * continues its conversation with a new run, or, when the previous response's run stopped for the
 * client (calls of its function tools, tool calls to approve), answers the run and lets it go on:
 * the new response is then the rest of the same run.
 */
public final class Responses {
  /** Below the OpenAI SDKs' own 10-minute timeout, so that they get the response rather than time out and retry. */
  public static final Duration MAX_WAIT = Duration.ofMinutes(5);
  private final AgentService agents;
  private final RunService runs;
  private final RunStore store;
  private final Jdbi jdbi;
  private final Ids ids;
  private final Clock clock;
  private final ObjectMapper mapper;
  private final Duration maxWait;
  private final ResponseView view;

  /**
   * @param maxWait how long a non-streamed response waits for its run; after that the client gets
   *     an error and the run goes on
   */
  public Responses(AgentService agents, RunService runs, RunStore store, Jdbi jdbi, Ids ids, Clock clock,
      ObjectMapper mapper, Duration maxWait) {
    this.agents = agents;
    this.runs = runs;
    this.store = store;
    this.jdbi = jdbi;
    this.ids = ids;
    this.clock = clock;
    this.mapper = mapper;
    this.maxWait = maxWait;
    this.view = new ResponseView(mapper);
  }

  ResponseView view() {
    return view;
  }

  /** A response as stored: which run, and from which of its steps on. */
  /**
   * @param answered the response as it was when a later one answered its run (then it no longer
   *     changes), or null
   */
  record Stored(String id, String runId, String model, String previousResponseId, boolean store,
      String instructions, int firstStep, Instant createdAt, ObjectNode answered) {}

  /** A response just created, and the last event of its run before it began (where its stream starts). */
  record Created(Stored response, long eventsBefore) {}

  Duration maxWait() {
    return maxWait;
  }

  Created create(Caller caller, ResponseRequest request) {
    if (request.previousResponseId() == null && request.input() == null && !request.outputs().isEmpty()) {
      return answerByCallIds(caller, request);
    }
    if (request.previousResponseId() == null) {
      AgentVersion agent = agents.latestByName(caller.workspaceId(), request.model())
          .orElseThrow(() -> new DomainException.ModelNotFound(request.model()));
      Pending response = pending(caller, request, 0);
      runs.startRunOnMessages(caller, agent.agentId(), request.earlier(), request.systemPrompt(), request.input(),
          request.clientTools(), mapper.createObjectNode().put("source", "openai.responses"), "input",
          CallbackMetadata.callback(request.callbackUrl()), response);
      return new Created(response.stored(), 0);
    }
    Stored previous = find(caller, request.previousResponseId())
        .orElseThrow(() -> new DomainException.ValidationFailed("previous_response_id",
            "no stored response with id '" + request.previousResponseId() + "'"));
    if (!previous.model().equals(request.model())) {
      throw new DomainException.ValidationFailed("model", "the previous response is of agent '" + previous.model()
          + "'; a conversation stays with its agent");
    }
    Run run = runs.run(caller, previous.runId());
    if (previous.answered() != null) {
      throw new DomainException.Conflict("response '" + previous.id() + "' was answered already, by response '"
          + answeredBy(previous.id()) + "'; continue from the latest response of the conversation");
    }
    if (run.status() == RunStatus.REQUIRES_ACTION) {
      return answer(caller, request, previous, run);
    }
    if (!run.status().isEnded()) {
      throw new DomainException.Conflict("the previous response is still in progress; wait for it to end");
    }
    if (request.answersPrevious()) {
      throw new DomainException.Conflict("the previous response waits for no function call output or approval");
    }
    String latest = jdbi.withHandle(h -> h.createQuery(
            "SELECT id FROM runs WHERE conversation_id = :c ORDER BY created_at DESC, id DESC LIMIT 1")
        .bind("c", run.conversationId()).mapTo(String.class).one());
    if (!latest.equals(run.id())) {
      // Continuing would show the model the later turns too: a branch is a fork of the run.
      throw new DomainException.ValidationFailed("previous_response_id", "the conversation has gone on since this "
          + "response; continue from its latest response, or fork run " + run.id() + " (POST /api/runs/"
          + run.id() + "/fork) to branch");
    }
    Pending response = pending(caller, request, 0);
    runs.continueConversation(caller, run.conversationId(), request.earlier(), request.systemPrompt(),
        request.input(), request.clientTools(), "input", CallbackMetadata.callback(request.callbackUrl()), response);
    return new Created(response.stored(), 0);
  }

  /**
   * Outputs sent with the whole history instead of {@code previous_response_id}: they answer the
   * run of the workspace that waits for exactly those function calls, as if its latest response
   * had been named.
   */
  private Created answerByCallIds(Caller caller, ResponseRequest request) {
    ArrayNode calls = mapper.createArrayNode();
    request.outputs().forEach(o -> calls.addObject().put("id", o.callId()));
    Optional<Stored> waiting = jdbi.withHandle(h -> h.createQuery("""
            SELECT p.id FROM runs r JOIN responses p ON p.run_id = r.id
            WHERE r.workspace_id = :w AND r.status = :waiting
              AND r.required_action ->> 'type' = 'submit_tool_outputs'
              AND r.required_action -> 'tool_calls' @> cast(:calls AS jsonb)
            ORDER BY p.created_at DESC LIMIT 1""")
        .bind("w", caller.workspaceId()).bind("waiting", RunStatus.REQUIRES_ACTION.wire()).bind("calls", Json.write(mapper, calls))
        .mapTo(String.class).findOne())
        .flatMap(id -> find(caller, id));
    Stored previous = waiting.orElseThrow(() -> new DomainException.ValidationFailed("input", "no response of "
        + "this workspace waits for the outputs of these function calls; send previous_response_id"));
    if (!previous.model().equals(request.model())) {
      throw new DomainException.ValidationFailed("model", "the response waiting for these outputs is of agent '"
          + previous.model() + "'");
    }
    ResponseRequest answering = request.withPrevious(previous.id());
    return answer(caller, answering, previous, runs.run(caller, previous.runId()));
  }

  /** Gives the waiting run the client's outputs or decisions; the new response is the rest of that run. */
  private Created answer(Caller caller, ResponseRequest request, Stored previous, Run run) {
    if (!request.answersPrevious()) {
      throw new DomainException.Conflict("the previous response waits for the client: answer its function_call "
          + "items with function_call_output items, or its mcp_approval_request items with mcp_approval_response "
          + "items");
    }
    if (!request.outputs().isEmpty() && !request.approvals().isEmpty()) {
      throw new DomainException.ValidationFailed("input", "the previous response waits for one kind of answer: "
          + "function call outputs or approvals, not both");
    }
    if (request.callbackUrl() != null) {
      // The answer goes on with the run that waited, which keeps the callback it was started with.
      throw new DomainException.ValidationFailed(CallbackMetadata.FIELD, "this request answers the run of response '"
          + previous.id() + "', which goes on and keeps the callback it was started with"
          + (run.callbackUrl() == null ? " (none)" : "") + "; a callback_url is given when a run starts");
    }
    if (!ResponseView.waitsForClient(run)) {
      // Executing a call of unknown outcome again, or settling it, is a person's decision.
      throw new DomainException.Conflict("the run waits for a person to settle a tool call whose outcome is unknown; "
          + "decide it in the platform API (POST /api/runs/" + run.id() + "/approvals or /tool_outputs)");
    }
    // The run is paused: nothing is appended to its journal until it is answered below. The new
    // response begins after the function calls answered (they were the previous one's output), or
    // with the calls approved (their execution is this one's).
    List<Step> before = store.steps(run.id());
    int firstStep = request.outputs().isEmpty()
        ? before.stream().filter(s -> s.status() == StepStatus.AWAITING_APPROVAL).mapToInt(Step::index).min()
            .orElse(before.size())
        : before.isEmpty() ? 0 : before.get(before.size() - 1).index() + 1;
    long eventsBefore = store.lastEventId(run.id());
    Pending response = pending(caller, request, firstStep).answering(previous.id(), render(previous));
    if (!request.outputs().isEmpty()) {
      runs.submitToolOutputs(caller, run.id(), request.outputs().stream()
          .map(o -> new RunService.ToolOutput(o.callId(), TextNode.valueOf(o.output()))).toList(), response);
    } else {
      runs.approve(caller, run.id(), request.approvals().stream()
          .map(a -> new RunService.Decision(a.requestId(), a.approve(), a.reason())).toList(), response);
    }
    return new Created(response.stored(), eventsBefore);
  }

  /** Waits until the run ends or needs the client, at most {@link #maxWait}. */
  Run settle(Caller caller, Stored response) throws InterruptedException {
    return runs.awaitSettled(caller, response.runId(), maxWait);
  }

  /** The response object as it stands (as it was answered, for a response a later one answered). */
  ObjectNode render(Stored response) {
    return response.answered() != null ? response.answered() : view.response(snapshot(response));
  }

  private String answeredBy(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT id FROM responses WHERE previous_response_id = :p LIMIT 1")
        .bind("p", id).mapTo(String.class).findOne().orElse("?"));
  }

  /**
   * The response's run, its steps and messages and its client tools, read in one snapshot of the
   * database so that they agree with each other.
   */
  ResponseView.Snapshot snapshot(Stored response) {
    return jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, h -> {
      Run run = store.run(h, response.runId());
      List<Message> own = store.messagesOfRun(h, run.conversationId(), run.id());
      return new ResponseView.Snapshot(response, run, store.steps(h, run.id()), own,
          store.state(h, run.id()).clientTools());
    });
  }

  /** A stored response ({@code store: true}) of the caller's workspace. */
  Optional<Stored> find(Caller caller, String id) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, run_id, model, previous_response_id, store, instructions, first_step, created_at,
                   answered::text AS answered
            FROM responses WHERE id = :id AND workspace_id = :w AND store""")
        .bind("id", id).bind("w", caller.workspaceId())
        .map((rs, c) -> new Stored(rs.getString("id"), rs.getString("run_id"), rs.getString("model"),
            rs.getString("previous_response_id"), rs.getBoolean("store"), rs.getString("instructions"),
            rs.getInt("first_step"), rs.getTimestamp("created_at").toInstant(),
            rs.getString("answered") == null ? null : (ObjectNode) Json.read(mapper, rs.getString("answered"))))
        .findOne());
  }

  private Pending pending(Caller caller, ResponseRequest request, int firstStep) {
    return new Pending(caller.workspaceId(), "resp_" + ids.next(), request, firstStep,
        clock.instant().truncatedTo(ChronoUnit.MILLIS));
  }

  /** A response's row, written in the transaction that creates or answers its run. */
  private static final class Pending implements RunService.Alongside {
    private static final ObjectMapper JSON = io.aryabhatta.json.Json.mapper();
    private final String workspaceId;
    private final String id;
    private final ResponseRequest request;
    private final int firstStep;
    private final Instant createdAt;
    private String runId;
    private String previousId;
    private ObjectNode previousAsAnswered;

    Pending(String workspaceId, String id, ResponseRequest request, int firstStep, Instant createdAt) {
      this.workspaceId = workspaceId;
      this.id = id;
      this.request = request;
      this.firstStep = firstStep;
      this.createdAt = createdAt;
    }

    /** This response answers {@code previousId}'s run: that one is kept as it was then. */
    Pending answering(String previousId, ObjectNode asAnswered) {
      this.previousId = previousId;
      this.previousAsAnswered = asAnswered;
      return this;
    }

    @Override
    public void write(WriteBatch w, String runId) {
      this.runId = runId;
      if (previousId != null) {
        w.statement("UPDATE responses SET answered = cast(:json AS jsonb) WHERE id = :id AND answered IS NULL")
            .bind("id", previousId).bind("json", Json.write(JSON, previousAsAnswered)).execute();
      }
      w.statement("""
              INSERT INTO responses (id, workspace_id, run_id, previous_response_id, model, store, instructions,
                                     first_step, created_at)
              VALUES (:id, :w, :r, :p, :m, :s, :i, :f, to_timestamp(cast(:at AS float8) / 1000))""")
          .bind("id", id).bind("w", workspaceId).bind("r", runId).bind("p", request.previousResponseId())
          .bind("m", request.model()).bind("s", request.store()).bind("i", request.instructions())
          .bind("f", firstStep).bind("at", createdAt.toEpochMilli())
          .execute();
    }

    Stored stored() {
      return new Stored(id, runId, request.model(), request.previousResponseId(), request.store(),
          request.instructions(), firstStep, createdAt, null);
    }
  }

}
