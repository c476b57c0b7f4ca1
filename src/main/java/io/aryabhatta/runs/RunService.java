package io.aryabhatta.runs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.aryabhatta.engine.RunEventLog;
import io.aryabhatta.engine.RunTransitions;
import io.aryabhatta.engine.SubAgents;
import io.aryabhatta.engine.RunScheduler;
import io.aryabhatta.engine.ToolMessages;
import io.aryabhatta.engine.ContextWindow;
import io.aryabhatta.engine.NewRun;
import io.aryabhatta.engine.RunSetup;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.callbacks.CallbackUrls;
import io.aryabhatta.tools.AddressGuard;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.WriteBatch;
import java.util.Collection;
import io.aryabhatta.memory.MemoryService;
import io.aryabhatta.memory.MemoryTool;
import io.aryabhatta.tools.ClientTools;
import io.aryabhatta.tools.ToolDefinition;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.Usage;
import io.aryabhatta.workspaces.Caller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** What API callers do with conversations and runs: start, cancel, approve, answer. */
public final class RunService {
  private static final Logger log = LoggerFactory.getLogger(RunService.class);
  private final Jdbi jdbi;
  private final RunStore store;
  private final RunEventLog events;
  private final RunTransitions transitions;
  private final AgentService agents;
  private final RunScheduler scheduler;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final EventNotifier notifier;
  private final RunSetup setup;
  private final MemoryService memory;

  private final SettledWatch settledWatch;
  private final CallbackUrls callbackUrls;

  /** A service whose runs' callbacks may reach public addresses only. */
  public RunService(Jdbi jdbi, RunStore store, RunEventLog events, RunTransitions transitions, AgentService agents, RunScheduler scheduler,
      AuditLog audit, Ids ids, ObjectMapper mapper, EventNotifier notifier, SettledWatch settledWatch, RunSetup setup,
      MemoryService memory) {
    this(jdbi, store, events, transitions, agents, scheduler, audit, ids, mapper, notifier, settledWatch, setup, memory,
        new CallbackUrls(new AddressGuard(List.of())));
  }

  public RunService(Jdbi jdbi, RunStore store, RunEventLog events, RunTransitions transitions, AgentService agents, RunScheduler scheduler,
      AuditLog audit, Ids ids, ObjectMapper mapper, EventNotifier notifier, SettledWatch settledWatch, RunSetup setup,
      MemoryService memory, CallbackUrls callbackUrls) {
    this.memory = memory;
    this.callbackUrls = callbackUrls;
    this.notifier = notifier;
    this.settledWatch = settledWatch;
    this.setup = setup;
    this.jdbi = jdbi;
    this.store = store;
    this.events = events;
    this.transitions = transitions;
    this.agents = agents;
    this.scheduler = scheduler;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
  }

  public record Decision(String toolCallId, Boolean approve, String reason) {}

  /**
   * The URL told how a run ended ({@code url} null: none), and the request field it was given in,
   * on which a refused URL is reported.
   */
  public record Callback(String url, String field) {
    public static final Callback NONE = new Callback(null, CallbackUrls.FIELD);

    public static Callback of(String url) {
      return new Callback(url, CallbackUrls.FIELD);
    }
  }

  public record ToolOutput(String toolCallId, JsonNode output) {}

  /**
   * What a caller records in the same transaction as a run's creation or answer, so that both
   * commit or neither does (the Responses API's response row).
   */
  public interface Alongside {
    Alongside NOTHING = (w, runId) -> { };

    void write(WriteBatch w, String runId);
  }

  public Conversation createConversation(Caller caller, String agentId, Map<String, String> variables,
      JsonNode metadata) {
    return createConversation(caller, agentId, variables, metadata, null);
  }

  /**
   * A conversation whose runs read and keep the agent's memory blocks of {@code memoryKey} (e.g.
   * a user id); null keeps none.
   */
  public Conversation createConversation(Caller caller, String agentId, Map<String, String> variables,
      JsonNode metadata, String memoryKey) {
    MemoryService.checkKey(memoryKey);
    refuseEmptyVariables(agents.version(caller.workspaceId(), agentId, null), variables);
    String id = WriteBatch.inTransaction(jdbi, w -> insertConversation(w, caller, agentId, variables, metadata,
        memoryKey));
    return conversation(caller, id);
  }

  public Conversation conversation(Caller caller, String id) {
    return store.conversation(caller.workspaceId(), id)
        .orElseThrow(() -> DomainException.NotFound.of("conversation", id));
  }

  /** Appends the user's message and queues a run of the conversation's agent, latest version. */
  public Run startRun(Caller caller, String conversationId, String input, Streaming streaming) {
    return startRun(caller, conversationId, input, streaming, null);
  }

  /** The same, with the URL told how the run ended ({@code null}: none), checked before anything is stored. */
  public Run startRun(Caller caller, String conversationId, String input, Streaming streaming, String callbackUrl) {
    return startRun(caller, conversationId, input, streaming, callbackUrl, Alongside.NOTHING);
  }

  /** The same, with {@code alongside} written in the run's creation transaction. */
  public Run startRun(Caller caller, String conversationId, String input, Streaming streaming, String callbackUrl,
      Alongside alongside) {
    String callback = callbackUrls.checked(callbackUrl);
    Conversation conversation = conversation(caller, conversationId);
    AgentVersion agent = agents.version(caller.workspaceId(), conversation.agentId(), null);
    String systemPrompt = fillPrompt(agent, variables(conversation.variables()))
        + memory.promptSection(agent, conversation.memoryKey());
    refuseTurnBeyondWindow(agent, systemPrompt, input, "input");
    return createAndStart(caller, agent, List.of(), (w, slot) -> {
      NewRun run = insertRun(w, caller, conversationId, agent, systemPrompt, input, streaming.streamed(), false,
          List.of(), conversation.memoryKey(), slot, callback);
      alongside.write(w, run.state().id());
      return run;
    });
  }

  /** Creates a conversation and its first run together (quick testing of an agent). */
  public Run startRunOfAgent(Caller caller, String agentId, String input, Map<String, String> variables,
      JsonNode metadata, Streaming streaming) {
    return startRunOfAgent(caller, agentId, null, input, variables, metadata, streaming);
  }

  /** The same, pinned to an agent version ({@code null}: the latest), e.g. to evaluate one version. */
  public Run startRunOfAgent(Caller caller, String agentId, Integer version, String input,
      Map<String, String> variables, JsonNode metadata, Streaming streaming) {
    return startRunOfAgent(caller, agentId, version, input, variables, metadata, null, streaming, null);
  }

  /**
   * The same, on a new conversation with a memory key ({@link #createConversation}) and the URL
   * told how the run ended ({@code null}: none), both checked before anything is stored.
   */
  public Run startRunOfAgent(Caller caller, String agentId, Integer version, String input,
      Map<String, String> variables, JsonNode metadata, String memoryKey, Streaming streaming, String callbackUrl) {
    return startRunOfAgent(caller, agentId, version, input, variables, metadata, memoryKey, streaming, callbackUrl,
        Alongside.NOTHING);
  }

  /** The same, with {@code alongside} written in the run's creation transaction. */
  public Run startRunOfAgent(Caller caller, String agentId, Integer version, String input,
      Map<String, String> variables, JsonNode metadata, String memoryKey, Streaming streaming, String callbackUrl,
      Alongside alongside) {
    MemoryService.checkKey(memoryKey);
    String callback = callbackUrls.checked(callbackUrl);
    AgentVersion agent = agents.version(caller.workspaceId(), agentId, version);
    refuseEmptyVariables(agent, variables);
    String systemPrompt = fillPrompt(agent, variables) + memory.promptSection(agent, memoryKey);
    refuseTurnBeyondWindow(agent, systemPrompt, input, "input");
    return createAndStart(caller, agent, List.of(), (w, slot) -> {
      String conversationId = insertConversation(w, caller, agentId, variables, metadata, memoryKey);
      NewRun run = insertRun(w, caller, conversationId, agent, systemPrompt, input, streaming.streamed(), true,
          List.of(), memoryKey, slot, callback);
      alongside.write(w, run.state().id());
      return run;
    });
  }

  /**
   * Starts a run on a new conversation seeded with turns the client kept itself (the
   * OpenAI-compatible API sends the whole conversation each time): {@code earlier} (user, assistant
   * and tool messages) is stored as sent, then {@code input} as the run's user message. A non-blank
   * {@code extraSystemPrompt} follows the agent's own system prompt. {@code clientTools} are
   * offered to the model beside the agent's tools; their calls wait for the client's outputs.
   */
  public Run startRunOnMessages(Caller caller, String agentId, List<ChatMessage> earlier, String extraSystemPrompt,
      String input, List<ToolDefinition> clientTools, JsonNode metadata, String inputField, Alongside alongside) {
    return startRunOnMessages(caller, agentId, earlier, extraSystemPrompt, input, clientTools, metadata, inputField,
        Callback.NONE, alongside);
  }

  /** The same, with the URL told how the run ended, checked before anything is stored. */
  public Run startRunOnMessages(Caller caller, String agentId, List<ChatMessage> earlier, String extraSystemPrompt,
      String input, List<ToolDefinition> clientTools, JsonNode metadata, String inputField, Callback callback,
      Alongside alongside) {
    String callbackUrl = callbackUrls.checked(callback.url(), callback.field());
    AgentVersion agent = agents.version(caller.workspaceId(), agentId, null);
    String systemPrompt = withExtraPrompt(fillPrompt(agent, Map.of()), extraSystemPrompt);
    refuseTurnBeyondWindow(agent, systemPrompt, input, inputField);
    return createAndStart(caller, agent, clientTools, (w, slot) -> {
      String conversationId = insertConversation(w, caller, agentId, Map.of(), metadata, null);
      appendEarlier(w, conversationId, earlier);
      NewRun run = insertRun(w, caller, conversationId, agent, systemPrompt, input, true, true, clientTools, null,
          slot, callbackUrl);
      alongside.write(w, run.state().id());
      return run.withUnknownHistory();
    });
  }

  /**
   * Continues a conversation the platform keeps (the Responses API's {@code previous_response_id})
   * with a run of its agent's latest version: {@code earlier} turns the client adds are appended
   * first, then {@code input} as the run's user message.
   */
  public Run continueConversation(Caller caller, String conversationId, List<ChatMessage> earlier,
      String extraSystemPrompt, String input, List<ToolDefinition> clientTools, String inputField,
      Alongside alongside) {
    return continueConversation(caller, conversationId, earlier, extraSystemPrompt, input, clientTools, inputField,
        Callback.NONE, alongside);
  }

  /** The same, with the URL told how the run ended, checked before anything is stored. */
  public Run continueConversation(Caller caller, String conversationId, List<ChatMessage> earlier,
      String extraSystemPrompt, String input, List<ToolDefinition> clientTools, String inputField, Callback callback,
      Alongside alongside) {
    String callbackUrl = callbackUrls.checked(callback.url(), callback.field());
    Conversation conversation = conversation(caller, conversationId);
    AgentVersion agent = agents.version(caller.workspaceId(), conversation.agentId(), null);
    String systemPrompt = withExtraPrompt(fillPrompt(agent, variables(conversation.variables()))
        + memory.promptSection(agent, conversation.memoryKey()), extraSystemPrompt);
    refuseTurnBeyondWindow(agent, systemPrompt, input, inputField);
    return createAndStart(caller, agent, clientTools, (w, slot) -> {
      lockIdleConversation(w, conversationId);
      appendEarlier(w, conversationId, earlier);
      NewRun run = insertRun(w, caller, conversationId, agent, systemPrompt, input, true, true, clientTools,
          conversation.memoryKey(), slot, callbackUrl);
      alongside.write(w, run.state().id());
      return run.withUnknownHistory();
    });
  }

  private void appendEarlier(WriteBatch w, String conversationId, List<ChatMessage> earlier) {
    for (ChatMessage m : earlier) {
      events.appendMessage(w, conversationId, null, m.role(), m.content(), m.toolCalls(), m.toolCallId(), m.name());
    }
  }

  private static String withExtraPrompt(String agentPrompt, String extra) {
    return extra == null || extra.isBlank() ? agentPrompt
        : agentPrompt.isBlank() ? extra : agentPrompt + "\n\n" + extra;
  }

  /**
   * Waits until the run has ended or needs action, or {@code timeout} has passed, and returns the
   * run as it stands then.
   */
  public Run awaitSettled(Caller caller, String runId, Duration timeout) throws InterruptedException {
    return awaitSettled(caller, runId, null, timeout);
  }

  /**
   * The same for a run the caller has just started, from the row its start returned: while this
   * process drives the run and has seen no settling of it, that row is as current as a read
   * would be, so none is made.
   */
  public Run awaitSettled(Caller caller, Run started, Duration timeout) throws InterruptedException {
    return awaitSettled(caller, started.id(), started, timeout);
  }

  private Run awaitSettled(Caller caller, String runId, Run started, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (EventNotifier.Subscription subscription = notifier.subscribe(runId);
        SettledWatch.Waiting watched = settledWatch.await(runId)) {
      Run current = started != null && !started.settled() && notifier.drivenAndUnsettled(runId)
          ? started : run(caller, runId);
      while (!current.settled() && System.nanoTime() < deadline) {
        // Woken when the run settles here, or when the watch finds it settled by another node.
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        subscription.awaitSettling(Math.min(left, settledWatch.recheckMillis()));
        // A row handed over by a transaction that paused the run may be older than the first read
        // (answered since): only an ended run is taken as it was handed over.
        Run settled = subscription.takeSettled();
        current = settled != null && settled.status().isEnded() ? settled : run(caller, runId);
      }
      return current;
    }
  }

  /** The runs the run's sub-agent calls started, in the order of the calls. */
  public List<Run> children(Caller caller, String runId) {
    run(caller, runId);
    return store.children(caller.workspaceId(), runId);
  }

  public Run run(Caller caller, String runId) {
    return store.run(caller.workspaceId(), runId).orElseThrow(() -> DomainException.NotFound.of("run", runId));
  }

  /**
   * Variables given for a new conversation must not be empty where the agent's prompt uses them.
   * (A conversation already stored keeps the values it has.)
   */
  private static void refuseEmptyVariables(AgentVersion agent, Map<String, String> variables) {
    PromptTemplate.refuseEmpty(agent.systemPrompt(), variables);
  }

  /**
   * The system prompt and the new user message are always sent whole: together larger than the
   * agent's {@code context_window}, they would be sent beyond it, so the run is refused instead.
   */
  private static void refuseTurnBeyondWindow(AgentVersion agent, String systemPrompt, String input, String field) {
    int prompt = ContextWindow.estimate(ChatMessage.system(systemPrompt));
    int tokens = prompt + ContextWindow.estimate(ChatMessage.user(input));
    if (tokens > agent.contextWindow()) {
      String what = prompt > agent.contextWindow()
          ? "the agent's system prompt alone is about " + prompt + " tokens"
          : "the new message with the system prompt is about " + tokens + " tokens";
      throw new DomainException.ValidationFailed(List.of(new FieldError(field, what
          + " (four characters a token), more than the agent's context_window of " + agent.contextWindow()
          + "; shorten it or raise context_window")));
    }
  }

  private String fillPrompt(AgentVersion agent, Map<String, String> variables) {
    Set<String> missing = PromptTemplate.missing(agent.systemPrompt(), variables);
    if (!missing.isEmpty()) {
      throw new DomainException.ValidationFailed(missing.stream()
          .map(name -> new FieldError("variables." + name, "the agent's system prompt needs this variable"))
          .toList());
    }
    return PromptTemplate.fill(agent.systemPrompt(), variables);
  }

  private String insertConversation(WriteBatch w, Caller caller, String agentId, Map<String, String> variables,
      JsonNode metadata, String memoryKey) {
    String id = ids.next();
    w.statement("""
            INSERT INTO conversations (id, workspace_id, agent_id, variables, metadata, memory_key)
            VALUES (:id, :w, :a, cast(:v AS jsonb), cast(:m AS jsonb), :memory_key)""")
        .bind("id", id).bind("w", caller.workspaceId()).bind("a", agentId).bind("memory_key", memoryKey)
        .bind("v", Json.write(mapper, variables))
        .bind("m", Json.write(mapper, metadata == null ? mapper.createObjectNode() : metadata))
        .execute();
    return id;
  }

  /** What a run's creation transaction inserts. */
  private interface RunInsert {
    NewRun insert(WriteBatch w, RunScheduler.Reservation slot);
  }

  /**
   * Creates a run of {@code agent} in one transaction (its inserts sent together) and, if this
   * node has a free slot, begins it in the same transaction and starts its loop once it has
   * committed: the run is inserted already leased to this node (no claim of its own), its tools
   * are read before the transaction and its provider while it commits. Otherwise, or when its
   * tools cannot be read, it is queued for a poller of any node, whose loop begins it (or fails
   * it, if its tools still cannot be read).
   */
  private Run createAndStart(Caller caller, AgentVersion agent, List<ToolDefinition> clientTools, RunInsert insert) {
    refuseClashingClientTools(agent, clientTools);
    Optional<RunScheduler.Reservation> slot = scheduler.reserve();
    RunSetup.Ahead ahead = slot.isEmpty() ? null : setup.readToolsNow(caller.workspaceId(), agent);
    Collection<ToolDefinition> tools = ahead == null ? null : toolsOrNull(ahead, clientTools);
    if (tools == null) {
      slot.ifPresent(RunScheduler.Reservation::cancel);
    }
    Optional<RunScheduler.Reservation> starting = tools == null ? Optional.empty() : slot;
    Created created;
    try {
      created = WriteBatch.inTransaction(jdbi, w -> {
        NewRun inserted = insert.insert(w, starting.orElse(null)).withAhead(ahead);
        if (starting.isEmpty()) {
          events.appendRunCreated(w, inserted.state());
        }
        // A run begun here has its run.created event written with the beginning's events.
        NewRun run = starting.isEmpty() ? inserted : starting.get().begin(w, withHistory(w, inserted),
            withMemoryTools(tools, agent, inserted.state()));
        return new Created(run, store.runWithWrites(w, run.state().id()));
      });
    } catch (RuntimeException e) {
      starting.ifPresent(RunScheduler.Reservation::cancel);
      throw e;
    }
    starting.ifPresent(s -> s.start(created.run()));
    return created.row().get();
  }

  /** The tools of a run begun at its creation, with its memory tools when it has a memory key. */
  private Collection<ToolDefinition> withMemoryTools(Collection<ToolDefinition> tools, AgentVersion agent,
      RunStore.RunState run) {
    Map<String, ToolDefinition> byName = new java.util.LinkedHashMap<>();
    tools.forEach(t -> byName.put(t.name(), t));
    return MemoryTool.withMemory(byName, agent, run.id(), run.memoryKey(), mapper).values();
  }

  /** The agent's tools as read for a run's creation, or null when they could not be read. */
  private static Collection<ToolDefinition> toolsOrNull(RunSetup.Ahead ahead, List<ToolDefinition> clientTools) {
    try {
      return ClientTools.offeredWith(ahead.tools(), clientTools).values();
    } catch (DomainException e) {
      return null;
    }
  }

  /** The run with its conversation's messages, read in its creation's transaction if not known. */
  private NewRun withHistory(WriteBatch w, NewRun run) {
    return run.history() != null ? run
        : run.withHistory(store.history(w.handleForReads(), run.state().conversationId()));
  }

  /** A run's creation: what it hands to the loop, and the run's row as committed (read in the same round trip). */
  private record Created(NewRun run, WriteBatch.Row<Run> row) {}

  private NewRun insertRun(WriteBatch w, Caller caller, String conversationId, AgentVersion agent, String systemPrompt,
      String input, boolean stream, boolean newConversation, List<ToolDefinition> clientTools, String memoryKey,
      RunScheduler.Reservation slot, String callbackUrl) {
    String runId = ids.next();
    if (!newConversation) {
      lockIdleConversation(w, conversationId);
    }
    // A run this node begins in its creation's transaction is inserted running, not updated to it: an
    // update of the status writes the row into every one of its indexes.
    RunStatus status = slot == null ? RunStatus.QUEUED : RunStatus.TRANSITIONS.target(RunStatus.Change.STARTED);
    w.statement("""
            INSERT INTO runs (id, workspace_id, conversation_id, agent_id, agent_version, system_prompt, stream, status,
                              started_at, lease_owner, lease_epoch, lease_expires_at, client_tools, memory_key,
                              callback_url)
            VALUES (:id, :w, :c, :a, :v, :p, :s, :status, CASE WHEN :status = 'running' THEN now() END, :node, :epoch,
                    now() + make_interval(secs => cast(:lease_seconds AS float8)), cast(:client_tools AS json),
                    :memory_key, :callback_url)""")
        .bind("status", status)
        .bind("id", runId).bind("w", caller.workspaceId()).bind("c", conversationId)
        .bind("a", agent.agentId()).bind("v", agent.version()).bind("p", systemPrompt).bind("s", stream)
        .bind("node", slot == null ? null : slot.node()).bind("epoch", slot == null ? 0 : slot.epoch())
        .bind("lease_seconds", slot == null ? null : slot.leaseSeconds())
        .bind("client_tools", ClientTools.toJson(mapper, clientTools)).bind("memory_key", memoryKey)
        .bind("callback_url", callbackUrl)
        .execute();
    events.appendMessage(w, conversationId, runId, "user", input, List.of(), null, null);
    audit.record(w, caller.workspaceId(), caller.keyPrefix(), "run.created", "run", runId,
        Map.of("conversation_id", conversationId, "agent_id", agent.agentId(), "agent_version", agent.version()));
    RunStore.RunState state = new RunStore.RunState(runId, caller.workspaceId(), conversationId, agent.agentId(),
        agent.version(), systemPrompt, stream, status, false, null, Usage.ZERO, clientTools, null,
        memoryKey, new RunStore.EndsInto(false, callbackUrl != null));
    return NewRun.inserted(state, agent, newConversation ? List.of(ChatMessage.user(input)) : null);
  }

  /** Serializes run creation per conversation, so two concurrent requests cannot both pass the check. */
  private void lockIdleConversation(WriteBatch w, String conversationId) {
    w.handleForReads().createQuery("SELECT id FROM conversations WHERE id = :c FOR UPDATE").bind("c", conversationId)
        .mapTo(String.class).one();
    boolean busy = w.handleForReads().createQuery("""
            SELECT EXISTS (SELECT 1 FROM runs WHERE conversation_id = :c
                           AND status IN (%s))""".formatted(RunStatus.sqlList(RunStatus.ACTIVE)))
        .bind("c", conversationId).mapTo(Boolean.class).one();
    if (busy) {
      throw new DomainException.Conflict("the conversation already has an active run; wait for it or cancel it");
    }
  }

  /** A client's function tool may not take the name of one of the agent's tools. */
  private static void refuseClashingClientTools(AgentVersion agent, List<ToolDefinition> clientTools) {
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < clientTools.size(); i++) {
      if (agent.tools().contains(clientTools.get(i).name())) {
        errors.add(new FieldError("tools[" + i + "].name", "the agent has a tool of this name already"));
      }
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
  }

  /**
   * Cancels a run. A run nobody is executing ends at once; a running one is flagged, its model
   * call interrupted, and it ends at the next step boundary (an executing tool finishes first).
   */
  public Run cancel(Caller caller, String runId) {
    run(caller, runId);
    cancelTree(caller, runId, true);
    return run(caller, runId);
  }

  /**
   * Cancels the run and its active descendants in one transaction. A transaction that created
   * children of the tree while this one waited for a row's lock committed before this one could
   * read them: they are found once this one has committed, and cancelled in turn (the run they
   * belong to is cancelled then, so no more are created).
   *
   * @param requested the run is the one the person cancelled (an ended run is a conflict); else a
   *     descendant found late, which is left alone if it has ended meanwhile
   */
  private void cancelTree(Caller caller, String runId, boolean requested) {
    Cancelled done = jdbi.inTransaction(h -> {
      // Children are locked before their parent, in the order a child's end locks them (its own
      // row, then its parent's), so that a cancel and a child ending at once cannot deadlock.
      List<String> active = activeDescendants(h, runId);
      List<Map<String, Object>> childRows = new ArrayList<>();
      for (String child : active.reversed()) {
        childRows.add(lockRun(h, child));
      }
      Map<String, Object> row = lockRun(h, runId);
      RunStatus status = RunStatus.of((String) row.get("status"));
      if (status.isEnded()) {
        return new Cancelled(status, List.of());
      }
      cancelLocked(h, runId, row);
      if (requested) {
        audit.record(h, caller, "run.cancel_requested", "run", runId, Map.of("status_before", status));
      }
      // Then its children, after it: each one's end finds the parent's call settled already.
      List<Map<String, Object>> topDown = childRows.reversed();
      for (int i = 0; i < active.size(); i++) {
        if (RunStatus.of((String) topDown.get(i).get("status")).isActive()) {
          cancelLocked(h, active.get(i), topDown.get(i));
        }
      }
      return new Cancelled(null, active);
    });
    boolean cancelledNow = done.endedAs() == null;
    if (cancelledNow) {
      scheduler.interrupt(runId);
      done.descendants().forEach(scheduler::interrupt);
    }
    // Also when the run had ended already: a cancel sent again finishes what one cut short left.
    try {
      List<String> late = jdbi.withHandle(h -> activeDescendants(h, runId)).stream()
          .filter(child -> !done.descendants().contains(child)).toList();
      for (String child : late) {
        cancelTree(caller, child, false);
      }
    } catch (RuntimeException e) {
      if (!cancelledNow) {
        throw e;
      }
      // The run is cancelled (committed): the children still active are cancelled by the next cancel.
      log.warn("Run {}: cancelling the children found after its cancel failed: {}", runId, e.toString());
    }
    if (!cancelledNow && requested) {
      throw new DomainException.Conflict("the run has already ended (" + done.endedAs() + ")");
    }
  }

  /** What a cancel's transaction found: the run ended already ({@code endedAs}), or the descendants cancelled with it. */
  private record Cancelled(RunStatus endedAs, List<String> descendants) {}

  /** A run nobody executes ends at once; a running one is flagged, and ends at its next step boundary. */
  private void cancelLocked(Handle h, String runId, Map<String, Object> row) {
    RunStatus status = RunStatus.of((String) row.get("status"));
    boolean executing = status == RunStatus.RUNNING && row.get("lease_owner") != null
        && Boolean.TRUE.equals(row.get("lease_live"));
    if (executing) {
      h.createUpdate("UPDATE runs SET cancel_requested = true WHERE id = :id").bind("id", runId).execute();
    } else {
      transitions.cancel(WriteBatch.immediate(h), runId);
    }
  }

  /** The active runs that the run's sub-agent calls started, and theirs, parents before children. */
  private static List<String> activeDescendants(Handle h, String runId) {
    return h.createQuery("""
            WITH RECURSIVE tree AS (
                SELECT id, status, 1 AS level FROM runs WHERE parent_run_id = :id
                UNION ALL
                SELECT r.id, r.status, t.level + 1 FROM runs r JOIN tree t ON r.parent_run_id = t.id)
            SELECT id FROM tree WHERE status IN (%s) ORDER BY level, id""".formatted(RunStatus.sqlList(RunStatus.ACTIVE)))
        .bind("id", runId).mapTo(String.class).list();
  }

  /** Records a person's decisions on the tool calls a run waits for, then lets it continue. */
  public Run approve(Caller caller, String runId, List<Decision> decisions) {
    return approve(caller, runId, decisions, Alongside.NOTHING);
  }

  public Run approve(Caller caller, String runId, List<Decision> decisions, Alongside alongside) {
    return answerWaitingCalls(caller, runId, Set.of("approve_tool_calls", "resolve_unknown_outcome"), "approvals",
        "decisions", decisions.stream().map(Decision::toolCallId).toList(), alongside, (h, conversationId, byId) -> {
          for (Decision d : decisions) {
            Step step = byId.get(d.toolCallId());
            if (Boolean.TRUE.equals(d.approve())) {
              WriteBatch.immediate(h).statement("""
                      UPDATE run_steps SET status = :s, decision_reason = :r WHERE run_id = :id AND idx = :i""")
                  .bind("s", step.status().after(StepStatus.Change.APPROVED)).bind("r", d.reason()).bind("id", runId).bind("i", step.index()).execute();
            } else if (step.status() == StepStatus.UNKNOWN_OUTCOME) {
              // Not executing it again leaves what happened the first time unknown: the model is told so.
              transitions.recordToolResult(WriteBatch.immediate(h), runId, conversationId, step, StepStatus.Change.SETTLED_UNKNOWN, null,
                  ToolMessages.whyUnknownAfterRejection(d.reason()), null, List.of());
            } else {
              transitions.recordToolResult(WriteBatch.immediate(h), runId, conversationId, step, StepStatus.Change.REJECTED, null, d.reason(),
                  null, List.of());
            }
          }
          audit.record(h, caller, "run.approvals", "run", runId, Map.of("decisions", decisions));
        });
  }

  /** Outputs of client tools, or the settled outcome of calls whose outcome was unknown. */
  public Run submitToolOutputs(Caller caller, String runId, List<ToolOutput> outputs) {
    return submitToolOutputs(caller, runId, outputs, Alongside.NOTHING);
  }

  public Run submitToolOutputs(Caller caller, String runId, List<ToolOutput> outputs, Alongside alongside) {
    List<String> callIds = outputs.stream().map(ToolOutput::toolCallId).toList();
    return answerWaitingCalls(caller, runId, Set.of("submit_tool_outputs", "resolve_unknown_outcome"),
        "tool outputs", "tool_outputs", callIds, alongside, (h, conversationId, byId) -> {
          for (ToolOutput o : outputs) {
            String text = o.output() == null || o.output().isNull() ? ""
                : o.output().isTextual() ? o.output().asText() : o.output().toString();
            transitions.recordToolResult(WriteBatch.immediate(h), runId, conversationId, byId.get(o.toolCallId()), StepStatus.Change.SUCCEEDED, text, null,
                null, List.of());
          }
          audit.record(h, caller, "run.tool_outputs", "run", runId, Map.of("tool_call_ids", callIds));
        });
  }

  /** What a person's answer does to the waiting calls, inside the transaction that resumes the run. */
  private interface Answer {
    void apply(Handle h, String conversationId, Map<String, Step> waitingByCallId);
  }

  /**
   * Checks that the run waits for one of {@code actionTypes} and that {@code answeredCallIds} names
   * each waiting call exactly once, applies the answer and queues the run again, in one transaction.
   */
  private Run answerWaitingCalls(Caller caller, String runId, Set<String> actionTypes, String what, String field,
      List<String> answeredCallIds, Alongside alongside, Answer answer) {
    run(caller, runId);
    jdbi.useTransaction(h -> {
      Map<String, Step> byId = byToolCallId(waitingCalls(h, runId, actionTypes, what));
      checkCoverage(byId.keySet(), answeredCallIds, field);
      answer.apply(h, store.run(h, runId).conversationId(), byId);
      transitions.resume(WriteBatch.immediate(h), runId);
      alongside.write(WriteBatch.immediate(h), runId);
    });
    scheduler.submit(runId);
    return run(caller, runId);
  }

  private List<Step> waitingCalls(Handle h, String runId, Set<String> actionTypes, String what) {
    Map<String, Object> row = lockRun(h, runId);
    JsonNode action = row.get("required_action") == null ? null : Json.read(mapper, (String) row.get("required_action"));
    if (action != null && SubAgents.CHILD_REQUIRES_ACTION.equals(action.path("type").asText())) {
      List<String> children = new ArrayList<>();
      action.path("children").forEach(c -> children.add(c.path("run_id").asText()));
      throw new DomainException.Conflict("the run waits for its child runs, which wait for a person: answer on the"
          + " child run itself (" + String.join(", ", children) + ")");
    }
    if (RunStatus.of((String) row.get("status")) != RunStatus.REQUIRES_ACTION || action == null
        || !actionTypes.contains(action.path("type").asText())) {
      throw new DomainException.Conflict("the run is not waiting for " + what + " (status " + row.get("status") + ")");
    }
    Set<String> ids = new HashSet<>();
    action.path("tool_calls").forEach(c -> ids.add(c.path("id").asText()));
    return store.steps(h, runId).stream()
        .filter(s -> s.isToolCall() && !s.finished() && ids.contains(s.toolCallId()))
        .toList();
  }

  private static Map<String, Step> byToolCallId(List<Step> steps) {
    Map<String, Step> map = new LinkedHashMap<>();
    steps.forEach(s -> map.put(s.toolCallId(), s));
    return map;
  }

  private static void checkCoverage(Set<String> expected, List<String> given, String field) {
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < given.size(); i++) {
      if (given.get(i) == null || !expected.contains(given.get(i))) {
        errors.add(new FieldError(field + "[" + i + "].tool_call_id",
            "is not one of the tool calls the run waits for: " + expected));
      }
    }
    Set<String> missing = new HashSet<>(expected);
    given.forEach(missing::remove);
    if (!missing.isEmpty()) {
      errors.add(new FieldError(field, "missing tool calls: " + missing));
    }
    if (new HashSet<>(given).size() != given.size()) {
      errors.add(new FieldError(field, "a tool call is listed twice"));
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
  }

  private static Map<String, Object> lockRun(Handle h, String runId) {
    return h.createQuery("""
            SELECT status, required_action::text AS required_action, lease_owner,
                   (lease_expires_at > now()) AS lease_live
            FROM runs WHERE id = :id FOR UPDATE""")
        .bind("id", runId).mapToMap().one();
  }

  private Map<String, String> variables(JsonNode node) {
    Map<String, String> vars = new LinkedHashMap<>();
    if (node != null) {
      node.fields().forEachRemaining(e -> vars.put(e.getKey(),
          e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    }
    return vars;
  }
}
