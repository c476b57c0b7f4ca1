package io.aryabhatta.embed;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.Engine;
import io.aryabhatta.callbacks.CallbackDelivery;
import io.aryabhatta.callbacks.CallbackSecrets;
import io.aryabhatta.callbacks.DeliveryPolicy;
import io.aryabhatta.agents.AgentInput;
import io.aryabhatta.agents.AgentView;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.db.Database;
import io.aryabhatta.db.Migrations;
import io.aryabhatta.json.Json;
import io.aryabhatta.providers.ProviderInput;
import io.aryabhatta.providers.ProviderView;
import io.aryabhatta.engine.RunObserver;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.Streaming;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.InProcessTool;
import io.aryabhatta.tools.ToolInput;
import io.aryabhatta.tools.ToolView;
import io.aryabhatta.workspaces.Caller;
import io.aryabhatta.workspaces.Workspace;
import io.aryabhatta.tracing.RunTracer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * The Aryabhatta engine running inside a JVM application, without the HTTP server.
 *
 * <pre>{@code
 * try (Aryabhatta engine = Aryabhatta.builder()
 *     .dataSource(dataSource)
 *     .secretKey(System.getenv("ARYABHATTA_SECRET_KEY"))
 *     .tool(JavaTool.of("lookup_order", "Look up an order by its id", schema, args -> orders.find(args)))
 *     .build()) {
 *   RunHandle run = engine.run(agentId, "Where is order A-1001?");
 *   Run finished = run.await(Duration.ofMinutes(1));
 * }
 * }</pre>
 *
 * <p>It is the same engine as the server's: the same tables (migrated on {@link Builder#build}),
 * services, agent loop, journal, leases and events, so runs survive a crash of the process and
 * are resumed by any process — embedded or server — that shares the database. Such processes
 * must all register the same {@link JavaTool}s: a run resumed where one of its tools is missing
 * fails with {@code configuration_error}.
 *
 * <p>Definitions and runs belong to one workspace, {@code default} unless chosen with
 * {@link #inWorkspace}; everything is recorded in the audit log with the actor {@code embedded}.
 * A refused request throws the same {@link io.aryabhatta.errors.DomainException} the HTTP API turns
 * into problem JSON: {@code NotFound}, {@code ValidationFailed} (with field errors),
 * {@code Conflict}.
 *
 * <p>Thread-safe. {@link #close} stops the engine gracefully; the {@link DataSource} stays open.
 */
public final class Aryabhatta implements AutoCloseable {
  private static final String ACTOR = "embedded";
  private static final RunObserver NO_OBSERVER = new RunObserver() {
    @Override
    public void modelCall(String provider, String model, String outcome, Duration duration,
        io.aryabhatta.model.Usage usage) {}

    @Override
    public void toolCall(String tool, boolean ok, Duration duration) {}
  };

  private final Engine engine;
  private final Caller caller;
  private final AtomicBoolean closed;
  private final boolean owner;

  private Aryabhatta(Engine engine, String workspaceId, AtomicBoolean closed, boolean owner) {
    this.engine = engine;
    this.caller = new Caller(ACTOR, workspaceId, ACTOR, true);
    this.closed = closed;
    this.owner = owner;
  }

  /** Starts configuring an engine. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- workspaces ----

  /** The workspace this instance defines things in and runs agents of. */
  public String workspaceId() {
    return caller.workspaceId();
  }

  /**
   * The same engine, acting in another workspace; closing the returned instance does nothing.
   *
   * @throws io.aryabhatta.http.DomainException.NotFound when there is no such workspace
   */
  public Aryabhatta inWorkspace(String workspaceId) {
    engine.workspaces().workspace(workspaceId);
    return new Aryabhatta(engine, workspaceId, closed, false);
  }

  /** Creates a workspace ({@code name} matches {@code ^[a-z0-9][a-z0-9_-]{0,63}$}). */
  public Workspace createWorkspace(String name) {
    return engine.workspaces().createWorkspace(caller, name);
  }

  // ---- definitions ----

  /** Stores (or replaces) an encrypted secret, e.g. a provider's API key; it is never returned. */
  public void putSecret(String name, String value) {
    engine.secrets().put(caller, name, value);
  }

  /** Defines an OpenAI-compatible model provider. */
  public ProviderView createProvider(ProviderInput provider) {
    return engine.providers().create(caller, provider);
  }

  /**
   * Defines an OpenAI-compatible model provider with default settings.
   *
   * @param baseUrl e.g. {@code https://api.openai.com/v1}
   * @param apiKeySecret name of the secret holding the API key ({@link #putSecret}), or null
   */
  public ProviderView createProvider(String name, String baseUrl, String apiKeySecret) {
    return createProvider(new ProviderInput(name, baseUrl, apiKeySecret, null, null, null, null));
  }

  /** Defines an {@code http} or {@code client} tool; Java tools are registered with {@link Builder#tool}. */
  public ToolView createTool(ToolInput tool) {
    return engine.tools().create(caller, tool);
  }

  /** A tool by id; Java tools and other built-ins have the id {@code builtin:<name>}. */
  public ToolView tool(String id) {
    return engine.tools().view(caller.workspaceId(), id);
  }

  /** Defines an agent at version 1; absent fields of {@code agent} take their defaults. */
  public AgentView createAgent(AgentInput agent) {
    return engine.agents().create(caller, agent);
  }

  /**
   * Changes an agent by a JSON Merge Patch (RFC 7386, snake_case fields as in the HTTP API), making
   * its next version; runs already started keep the version they started with.
   */
  public AgentView updateAgent(String agentId, JsonNode patch) {
    return engine.agents().update(caller, agentId, patch);
  }

  /** An agent at its latest version. */
  public AgentView agent(String agentId) {
    return engine.agents().view(caller.workspaceId(), agentId);
  }

  // ---- runs ----

  /** Starts a run of the agent's latest version on a new conversation. */
  public RunHandle run(String agentId, String input) {
    return run(agentId, input, Map.of());
  }

  /**
   * Starts a run of the agent's latest version on a new conversation. The run is queued and
   * driven on a thread of the engine; this returns at once.
   *
   * @param variables fill the {@code {{name}}} placeholders of the system prompt; a missing one is
   *     a {@code ValidationFailed}
   */
  public RunHandle run(String agentId, String input, Map<String, String> variables) {
    return run(agentId, input, variables, null);
  }

  /**
   * The same, and once the run has ended ({@code completed}, {@code failed} or {@code cancelled})
   * the run is POSTed to {@code callbackUrl}, signed with the workspace's callback secret
   * ({@link #rotateCallbackSecret}) and retried until it answers a 2xx, as with the HTTP API.
   *
   * @param callbackUrl an absolute http or https URL the address guard lets through
   *     ({@link Builder#httpToolAllowlist}), or null for none; otherwise a {@code ValidationFailed}
   *     on {@code callback_url}, and no run is created
   */
  public RunHandle run(String agentId, String input, Map<String, String> variables, String callbackUrl) {
    return new RunHandle(this, engine.runs().startRunOfAgent(caller, agentId, null, input, variables, null, null,
        Streaming.WHOLE_ANSWER, callbackUrl));
  }

  /**
   * Starts the next run of a conversation (a follow-up message); the model sees the conversation
   * so far. A conversation has one active run at a time ({@code Conflict} otherwise).
   */
  public RunHandle continueConversation(String conversationId, String input) {
    return continueConversation(conversationId, input, null);
  }

  /** The same, with the URL told once the run has ended, as for {@link #run(String, String, Map, String)}. */
  public RunHandle continueConversation(String conversationId, String input, String callbackUrl) {
    return new RunHandle(this, engine.runs().startRun(caller, conversationId, input, Streaming.WHOLE_ANSWER,
        callbackUrl));
  }

  /** A handle on an existing run, e.g. after a restart. */
  public RunHandle attach(String runId) {
    return new RunHandle(this, runOf(runId));
  }

  /** The run's events after {@code afterId} (0 for all) as a blocking iterator; see {@link RunEvents}. */
  public RunEvents events(String runId, long afterId) {
    runOf(runId);
    return new RunEvents(engine.runStore(), engine.notifier(), runId, afterId, () -> runOf(runId));
  }

  /**
   * Delivers the run's events after {@code afterId} (0 for all) to {@code listener}, in order, on
   * a thread of its own; see {@link EventSubscription}.
   */
  public EventSubscription events(String runId, long afterId, Consumer<RunEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    return new EventSubscription(runId, events(runId, afterId), listener);
  }

  // ---- callbacks ----

  /**
   * Replaces the workspace's callback signing secret with a new one and returns it, this once: the
   * receiver verifies each delivery's {@code X-Aryabhatta-Signature} with it. The same secret as
   * {@code POST /api/callback_secret} rotates.
   */
  public CallbackSecrets.Rotated rotateCallbackSecret() {
    return engine.callbacks().secrets().rotate(caller);
  }

  /** The run's callback delivery with its attempts, once the run has ended; empty before, or without a callback. */
  public Optional<CallbackDelivery> callback(String runId) {
    runOf(runId);
    return engine.callbacks().deliveries().ofRun(caller.workspaceId(), runId);
  }

  // ---- lifecycle ----

  /** Same as {@link #close(Duration)} with ten seconds of grace. */
  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  /**
   * Stops claiming runs, lets steps in flight finish for up to {@code grace}, then releases the
   * runs still held so that another process resumes them at once (or this application, when it
   * builds an engine again). Only the instance returned by {@link Builder#build} stops the engine.
   */
  public void close(Duration grace) {
    if (owner && closed.compareAndSet(false, true)) {
      engine.shutdown(grace);
    }
  }

  // ---- for RunHandle ----

  Caller caller() {
    return caller;
  }

  RunService runs() {
    return engine.runs();
  }

  RunStore runStore() {
    return engine.runStore();
  }

  Run runOf(String runId) {
    return engine.runs().run(caller, runId);
  }

  Run awaitSettled(String runId, Duration timeout) throws TimeoutException, InterruptedException {
    Run run = engine.runs().awaitSettled(caller, runId, timeout);
    if (!run.settled()) {
      throw new TimeoutException("run " + runId + " is still " + run.status() + " after " + timeout);
    }
    return run;
  }

  /**
   * The settings of an engine. Only {@link #dataSource} and {@link #secretKey} are required; the
   * rest default as for the server.
   */
  public static final class Builder {
    private DataSource dataSource;
    private String secretKey;
    private Duration lease = Duration.ofSeconds(30);
    private int maxConcurrentRuns = 256;
    private int toolMaxAttempts = 3;
    private RunObserver observer = NO_OBSERVER;
    private List<String> httpToolAllowlist = List.of();
    private String hfApiUrl = ConfigLoader.DEFAULT_HF_API_URL;
    private String hfToken;
    private final List<JavaTool> tools = new ArrayList<>();

    private Builder() {}

    /**
     * The PostgreSQL database (14 or later) the engine keeps everything in; its tables are created
     * or migrated by {@link #build}. Give the engine a database (or a {@code currentSchema}) of its
     * own. The engine never closes it.
     */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      return this;
    }

    /**
     * The key encrypting stored secrets: base64 of 32 random bytes ({@code openssl rand -base64
     * 32}), the same in every process sharing the database ({@code ARYABHATTA_SECRET_KEY}).
     */
    public Builder secretKey(String base64Key) {
      this.secretKey = Objects.requireNonNull(base64Key, "secretKey");
      return this;
    }

    /**
     * How long this process's claim on a run lasts without a heartbeat, 2 to 86400 (default 30):
     * after a crash, another process resumes the run this long after the last heartbeat.
     */
    public Builder leaseSeconds(int seconds) {
      if (seconds < 2 || seconds > 86_400) {
        throw new IllegalArgumentException("leaseSeconds must be between 2 and 86400");
      }
      this.lease = Duration.ofSeconds(seconds);
      return this;
    }

    /** Runs this process executes at once, at least 1 (default 256); more wait in the queue. */
    public Builder maxConcurrentRuns(int runs) {
      if (runs < 1) {
        throw new IllegalArgumentException("maxConcurrentRuns must be at least 1");
      }
      this.maxConcurrentRuns = runs;
      return this;
    }

    /**
     * Attempts of an idempotent tool call that fails transiently (timeout, refused connection,
     * 408, 429, 5xx), the first included; 1 turns retries off (default 3).
     */
    public Builder toolMaxAttempts(int attempts) {
      if (attempts < 1 || attempts > 10) {
        throw new IllegalArgumentException("toolMaxAttempts must be between 1 and 10");
      }
      this.toolMaxAttempts = attempts;
      return this;
    }

    /** Told about every model call and tool execution, e.g. to feed the application's metrics. */
    public Builder observer(RunObserver observer) {
      this.observer = java.util.Objects.requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Hosts and CIDRs that HTTP and MCP tools may reach although they are private or loopback
     * (default none), as {@code ARYABHATTA_HTTP_TOOL_ALLOWLIST}.
     */
    public Builder httpToolAllowlist(List<String> hostsAndCidrs) {
      this.httpToolAllowlist = List.copyOf(hostsAndCidrs);
      return this;
    }

    /** The API key of the built-in provider {@code hf} (Hugging Face router); unset by default. */
    public Builder huggingFaceToken(String token) {
      this.hfToken = token;
      return this;
    }

    /** The chat-completions URL of the built-in provider {@code hf}. */
    public Builder huggingFaceApiUrl(String url) {
      this.hfApiUrl = Objects.requireNonNull(url, "url");
      return this;
    }

    /** Registers a tool implemented in Java, available to the agents of every workspace. */
    public Builder tool(JavaTool tool) {
      tools.add(Objects.requireNonNull(tool, "tool"));
      return this;
    }

    /**
     * Migrates the database, wires the engine and starts its scheduler: from here on this process
     * claims and drives queued runs, including runs left unfinished by processes that died.
     *
     * @throws IllegalStateException when a required setting is missing
     * @throws IllegalArgumentException when a setting or a {@link JavaTool} is invalid
     * @throws io.aryabhatta.db.DatabaseUnavailableException when the database cannot be migrated
     */
    public Aryabhatta build() {
      if (dataSource == null) {
        throw new IllegalStateException("dataSource is required");
      }
      if (secretKey == null) {
        throw new IllegalStateException("secretKey is required: the base64 encoding of 32 random bytes");
      }
      SecretCipher cipher = new SecretCipher(decodeKey(secretKey));
      AddressGuard addressGuard = new AddressGuard(httpToolAllowlist);
      List<InProcessTool> inProcessTools = tools.stream().map(t -> t.toInProcessTool(Json.mapper())).toList();

      new Migrations(dataSource).apply();
      Jdbi jdbi = Database.jdbi(dataSource);
      Engine engine = Engine.start(jdbi, new Engine.Settings(cipher, addressGuard, hfApiUrl,
          Optional.ofNullable(hfToken), lease, maxConcurrentRuns, inProcessTools, toolMaxAttempts, observer,
          RunTracer.OFF, DeliveryPolicy.DEFAULT_MAX_ATTEMPTS));
      return new Aryabhatta(engine, Workspace.DEFAULT_ID, new AtomicBoolean(), true);
    }

    private static byte[] decodeKey(String base64) {
      try {
        byte[] key = Base64.getDecoder().decode(base64.strip());
        if (key.length == SecretCipher.KEY_BYTES) {
          return key;
        }
      } catch (IllegalArgumentException e) {
        // reported below, without the key
      }
      throw new IllegalArgumentException(
          "secretKey must be the base64 encoding of " + SecretCipher.KEY_BYTES + " random bytes");
    }
  }
}
