package io.aryabhatta;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.callbacks.Callbacks;
import io.aryabhatta.callbacks.DeliveryPolicy;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.knowledge.Embeddings;
import io.aryabhatta.knowledge.KnowledgeIngestion;
import io.aryabhatta.knowledge.KnowledgeService;
import io.aryabhatta.knowledge.KnowledgeTool;
import io.aryabhatta.memory.MemoryService;
import io.aryabhatta.memory.MemoryTool;
import io.aryabhatta.tools.ToolInvoker;
import io.aryabhatta.tools.GuardedFetch;
import io.aryabhatta.json.Json;
import io.aryabhatta.mcp.McpConnector;
import io.aryabhatta.mcp.McpServerService;
import io.aryabhatta.mcp.McpToolRunner;
import io.aryabhatta.model.ModelClient;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.engine.AgentLoop;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.engine.Journal;
import io.aryabhatta.engine.RunEventLog;
import io.aryabhatta.engine.RunTransitions;
import io.aryabhatta.evaluations.EvaluationService;
import io.aryabhatta.replay.RunFork;
import io.aryabhatta.engine.RunObserver;
import io.aryabhatta.replay.RunReplay;
import io.aryabhatta.engine.RunScheduler;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.SettledWatch;
import io.aryabhatta.engine.RunSetup;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.engine.ToolRetryPolicy;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.BuiltinTools;
import io.aryabhatta.tools.InProcessTool;
import io.aryabhatta.tools.ToolExecutor;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.tracing.RunTracer;
import io.aryabhatta.triggers.ScheduleTicker;
import io.aryabhatta.triggers.TriggerService;
import io.aryabhatta.workspaces.WorkspaceService;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import org.jdbi.v3.core.Jdbi;

/**
 * The engine without HTTP: the services that define agents and tools, and the agent loop that
 * runs them, on one migrated database. {@link Main} serves it over HTTP; an application embeds it
 * through {@code io.aryabhatta.embed.Aryabhatta}. Reading {@link #start} shows how it is wired.
 */
public record Engine(
    Clock clock,
    Ids ids,
    ObjectMapper mapper,
    Jdbi jdbi,
    AuditLog audit,
    WorkspaceService workspaces,
    SecretService secrets,
    ToolService tools,
    McpServerService mcpServers,
    ProviderService providers,
    AgentService agents,
    ModelClient models,
    ToolExecutor toolExecutor,
    ArgumentValidator argumentValidator,
    RunStore runStore,
    EventNotifier notifier,
    SettledWatch settledWatch,
    Journal journal,
    RunScheduler scheduler,
    RunService runs,
    RunReplay replay,
    RunFork forks,
    EvaluationService evaluations,
    KnowledgeService knowledge,
    KnowledgeIngestion ingestion,
    MemoryService memory,
    RunTracer tracer,
    Callbacks callbacks,
    TriggerService triggers,
    ScheduleTicker scheduleTicker) {

  /**
   * What the engine is built from, besides the database.
   *
   * @param secretCipher encrypts stored secrets
   * @param addressGuard which private addresses HTTP and MCP tools may reach
   * @param hfApiUrl chat-completions URL of the built-in provider {@code hf}
   * @param hfToken API key of {@code hf}
   * @param lease how long this process's claim on a run lasts without a heartbeat
   * @param maxConcurrentRuns runs this process executes at once
   * @param inProcessTools built-in tools the embedding application implements in code
   * @param toolMaxAttempts attempts of an idempotent tool call that fails transiently
   * @param observer told about every model call and tool execution (metrics)
   * @param tracer traces runs ({@link RunTracer#OFF}: not); the engine closes it when it shuts down
   * @param callbackMaxAttempts attempts of a run's callback before it is given up
   */
  public record Settings(SecretCipher secretCipher, AddressGuard addressGuard, String hfApiUrl,
      Optional<String> hfToken, Duration lease, int maxConcurrentRuns, List<InProcessTool> inProcessTools,
      int toolMaxAttempts, RunObserver observer, RunTracer tracer, int callbackMaxAttempts) {}

  /**
   * Wires the services on {@code jdbi}, whose database must already be migrated, and starts the
   * scheduler: from here on this process claims and drives queued runs.
   *
   * @throws IllegalArgumentException when an in-process tool is invalid
   */
  public static Engine start(Jdbi jdbi, Settings settings) {
    Clock clock = Clock.systemUTC();
    Ids ids = new Ids(clock);
    ObjectMapper mapper = Json.mapper();
    BuiltinTools builtins = new BuiltinTools(mapper, settings.inProcessTools());
    AuditLog audit = new AuditLog(jdbi, mapper);
    WorkspaceService workspaces = new WorkspaceService(jdbi, audit, ids);

    // Definitions: secrets, tools, providers, agents.
    SecretService secrets = new SecretService(jdbi, audit, settings.secretCipher());
    secrets.verifyKey();
    ToolService tools = new ToolService(jdbi, audit, ids, mapper, secrets, builtins);
    McpConnector mcpConnector = new McpConnector(settings.addressGuard());
    McpServerService mcpServers = new McpServerService(jdbi, audit, ids, mapper, secrets, mcpConnector);
    ProviderService providers =
        new ProviderService(jdbi, audit, ids, mapper, secrets, settings.hfApiUrl(), settings.hfToken());
    AgentService agents = new AgentService(jdbi, audit, ids, mapper, tools, providers);

    // Execution: the model client, tools, and the agent loop with its journal and scheduler.
    // OkHttp keeps 5 idle connections by default: with more runs calling one provider at once, the
    // others would reconnect (a TLS handshake to a hosted model) on every call.
    OkHttpClient http = new OkHttpClient.Builder()
        .connectionPool(new ConnectionPool(settings.maxConcurrentRuns(), 5, TimeUnit.MINUTES))
        .build();
    ModelClient models = new ModelClient(http, mapper);
    ToolExecutor toolExecutor = new ToolExecutor(http, mapper, secrets, settings.addressGuard(), clock,
        ToolExecutor.DEFAULT_MAX_RESPONSE_BYTES, new McpToolRunner(mcpServers, mcpConnector, mapper), builtins);
    // What agents know: knowledge bases, indexed in the background, and memory.
    String node = "node-" + ids.next();
    Embeddings.Embedder embedder = Embeddings.through(providers, http, mapper);
    KnowledgeIngestion ingestion = new KnowledgeIngestion(jdbi, ids, node, settings.lease(),
        KnowledgeIngestion.CHUNK_TOKENS, KnowledgeIngestion.OVERLAP_TOKENS, embedder);
    KnowledgeService knowledge = new KnowledgeService(jdbi, audit, ids,
        new GuardedFetch(http, settings.addressGuard(), KnowledgeService.MAX_DOCUMENT_BYTES), providers, embedder,
        KnowledgeService.MAX_DOCUMENT_BYTES, ingestion::wake);
    MemoryService memory = new MemoryService(jdbi, audit);
    ToolInvoker toolInvoker = KnowledgeTool.invoker(knowledge, mapper,
        MemoryTool.invoker(memory, agents, mapper, toolExecutor));
    ArgumentValidator argumentValidator = new ArgumentValidator();
    RunStore runStore = new RunStore(jdbi, mapper);
    EventNotifier notifier = new EventNotifier();
    RunEventLog runEvents = new RunEventLog(mapper, runStore, notifier);
    // A run's callback is queued by the transaction that ends it; the worker sends it.
    Callbacks callbacks = Callbacks.create(jdbi, mapper, http, settings.addressGuard(), settings.secretCipher(), audit,
        runStore, node, DeliveryPolicy.of(settings.callbackMaxAttempts(), settings.lease()), clock);
    // A run queued by a commit (a child started, a parent whose children ended) is offered to this
    // node's scheduler, made below; every node's poller would claim it anyway.
    java.util.concurrent.atomic.AtomicReference<RunScheduler> schedulerOfRuns = new java.util.concurrent.atomic.AtomicReference<>();
    RunTransitions transitions = new RunTransitions(mapper, runStore, runEvents, audit, callbacks.worker()::wake,
        runId -> {
          RunScheduler s = schedulerOfRuns.get();
          if (s != null) {
            s.submit(runId);
          }
        });
    Journal journal = new Journal(jdbi, mapper, runEvents, transitions, audit, settings.lease());
    RunSetup runSetup = new RunSetup(tools, providers, mapper);
    AgentLoop loop = new AgentLoop(jdbi, runStore, journal, agents, runSetup, models, toolInvoker,
        argumentValidator, ToolRetryPolicy.of(settings.toolMaxAttempts()), mapper, settings.observer(),
        settings.tracer());
    RunScheduler scheduler = new RunScheduler(jdbi, loop, notifier, node, settings.lease(),
        settings.maxConcurrentRuns(), Duration.ofMillis(500));
    schedulerOfRuns.set(scheduler);
    SettledWatch settledWatch = new SettledWatch(jdbi, notifier, Duration.ofSeconds(1));
    RunService runs = new RunService(jdbi, runStore, runEvents, transitions, agents, scheduler, audit, ids, mapper,
        notifier, settledWatch, runSetup, memory, callbacks.urls());

    // What is built on runs: replay and fork of a recorded run, evaluations of an agent.
    RunReplay replay = new RunReplay(jdbi, runStore, runEvents, agents, tools, argumentValidator, audit, mapper);
    RunFork forks = new RunFork(jdbi, runStore, runEvents, agents, scheduler, audit, ids, mapper, callbacks.urls());
    EvaluationService evaluations = new EvaluationService(jdbi, agents, runs, runStore, argumentValidator,
        tools.schemas(), audit, ids, mapper);

    // What starts runs without an API call: webhooks and schedules.
    TriggerService triggers =
        new TriggerService(jdbi, audit, ids, mapper, settings.secretCipher(), agents, runs, clock, callbacks.urls());
    ScheduleTicker scheduleTicker = new ScheduleTicker(triggers, clock, Duration.ofSeconds(1));

    scheduler.start();
    settledWatch.start();
    ingestion.start();
    callbacks.worker().start();
    scheduleTicker.start();
    return new Engine(clock, ids, mapper, jdbi, audit, workspaces, secrets, tools, mcpServers, providers, agents,
        models, toolExecutor, argumentValidator, runStore, notifier, settledWatch, journal, scheduler, runs, replay, forks,
        evaluations, knowledge, ingestion, memory, settings.tracer(), callbacks, triggers, scheduleTicker);
  }

  /**
   * Stops firing schedules and claiming runs, lets in-flight steps finish for up to {@code grace},
   * then releases the leases still held so that another process resumes those runs at once. Clients still waiting
   * on runs are woken, and read their runs every second from then on. The spans of the runs
   * stopped are sent last.
   */
  public void shutdown(Duration grace) {
    scheduleTicker.close();
    ingestion.stop();
    scheduler.shutdown(grace);
    callbacks.worker().close();
    settledWatch.close();
    tracer.close();
  }
}
