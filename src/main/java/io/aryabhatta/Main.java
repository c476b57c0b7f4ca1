package io.aryabhatta;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditRoutes;
import io.aryabhatta.callbacks.CallbackRoutes;
import io.aryabhatta.config.Config;
import io.aryabhatta.config.ConfigException;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.db.Database;
import io.aryabhatta.db.DatabaseUnavailableException;
import io.aryabhatta.db.Migrations;
import io.aryabhatta.evaluations.EvaluationRoutes;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Cors;
import io.aryabhatta.http.DocsRoutes;
import io.aryabhatta.http.HealthRoutes;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.Problems;
import io.aryabhatta.http.RateLimiter;
import io.aryabhatta.http.RegisteredRoutes;
import io.aryabhatta.http.WebServer;
import io.aryabhatta.knowledge.KnowledgeRoutes;
import io.aryabhatta.mcp.McpServerRoutes;
import io.aryabhatta.memory.MemoryRoutes;
import io.aryabhatta.mcpserver.AgentsMcpServer;
import io.aryabhatta.agents.AgentRoutes;
import io.aryabhatta.providers.ProviderRoutes;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretKeys;
import io.aryabhatta.secrets.SecretRoutes;
import io.aryabhatta.metrics.Metrics;
import io.aryabhatta.metrics.MetricsRoutes;
import io.aryabhatta.openai.ChatCompletions;
import io.aryabhatta.openai.OpenAiRoutes;
import io.aryabhatta.openai.Responses;
import io.aryabhatta.runs.EventStream;
import io.aryabhatta.replay.ReplayRoutes;
import io.aryabhatta.runs.RunRoutes;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.ToolRoutes;
import io.aryabhatta.tools.ToolTestRoutes;
import io.aryabhatta.tracing.RunTracing;
import io.aryabhatta.usage.UsageReport;
import io.aryabhatta.usage.UsageRoutes;
import io.aryabhatta.workspaces.WorkspaceRoutes;
import io.aryabhatta.triggers.HookRoutes;
import io.aryabhatta.triggers.TriggerRoutes;
import io.aryabhatta.triggers.WebhookReceiver;
import io.javalin.Javalin;
import io.javalin.util.JavalinBindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The composition root: reading {@link #start} top to bottom shows the whole system. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    String command = args.length == 0 ? "serve" : args[0];
    try {
      switch (command) {
        case "version" -> System.out.println("aryabhatta " + version());
        case "migrate" -> migrate(ConfigLoader.fromEnvironment(Path.of("")));
        case "serve" -> serve(ConfigLoader.fromEnvironment(Path.of("")));
        default -> {
          System.err.println("usage: aryabhatta [serve|migrate|version]");
          System.exit(2);
        }
      }
    } catch (ConfigException | DatabaseUnavailableException e) {
      System.err.println("aryabhatta: cannot start: " + e.getMessage());
      System.exit(1);
    }
  }

  private static void serve(Config config) {
    RunningServer server = start(config);
    // One hook stops everything in order: runs, HTTP, then the database their last writes need.
    server.database().stopOnlyWhenClosed();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Shutting down");
      server.close();
    }, "shutdown"));
  }

  private static void migrate(Config config) {
    try (Database database = Database.open(config)) {
      int applied = new Migrations(database.dataSource()).apply();
      log.info("Applied {} migration(s); the database is up to date", applied);
    }
  }

  /** Builds and starts everything from {@code config}; tests start the same graph. */
  public static RunningServer start(Config config) {
    log.info("Starting Aryabhatta {} with {}", version(), config);
    SecretCipher secretCipher = SecretKeys.cipher(config);
    AddressGuard addressGuard = addressGuard(config);

    Database database = Database.open(config);
    try {
      Migrations migrations = new Migrations(database.dataSource());
      int applied = migrations.apply();
      log.info("Migrations: {} applied, schema up to date", applied);

      // The engine: definitions (secrets, tools, providers, agents) and the agent loop with its scheduler.
      Metrics metrics = new Metrics();
      database.measureIn(metrics.registry());
      Engine engine = Engine.start(database.jdbi(), new Engine.Settings(secretCipher, addressGuard,
          config.hfApiUrl(), config.hfToken(), config.lease(), config.maxConcurrentRuns(), List.of(),
          config.toolMaxAttempts(), metrics, RunTracing.start(config.tracing()), config.callbackMaxAttempts()));
      try {
        engine.workspaces().ensureAdminKey(config.adminKey()).ifPresent(Main::announceGeneratedAdminKey);
        RegisteredRoutes routes = new RegisteredRoutes();
        Javalin app = http(config, database, migrations, engine, metrics, routes);
        log.info("Listening on http://{}:{} as {}", config.host(), app.port(), engine.scheduler().node());
        return new RunningServer(app, routes, engine, database, config.shutdownGrace());
      } catch (RuntimeException e) {
        engine.shutdown(Duration.ZERO);
        throw e;
      }
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /** The HTTP API on top of the engine, listening once this returns. */
  private static Javalin http(Config config, Database database, Migrations migrations, Engine engine,
      Metrics metrics, RegisteredRoutes routes) {
    Jdbi jdbi = engine.jdbi();
    ObjectMapper mapper = engine.mapper();
    ChatCompletions chatCompletions =
        new ChatCompletions(engine.agents(), engine.runs(), mapper, Duration.ofMinutes(10));
    Responses responses = new Responses(engine.agents(), engine.runs(), engine.runStore(), engine.jdbi(),
        engine.ids(), engine.clock(), mapper, Responses.MAX_WAIT);

    JsonBody body = new JsonBody(mapper, config.maxBodyBytes());
    Idempotency idempotency = new Idempotency(jdbi, body);
    Auth auth = new Auth(engine.workspaces(), new RateLimiter(config.rateLimitPerMinute(), engine.clock()));
    Javalin app = WebServer.create(mapper, config.maxBodyBytes(), new Cors(config.corsOrigins()), auth,
        new Problems(mapper), metrics, routes, List.of(
        new HealthRoutes(database, migrations)::register,
        new MetricsRoutes(metrics, jdbi, engine.scheduler())::register,
        new DocsRoutes()::register,
        new WorkspaceRoutes(engine.workspaces(), body, idempotency)::register,
        new SecretRoutes(engine.secrets(), body, idempotency)::register,
        new ToolRoutes(engine.tools(), body, idempotency)::register,
        new ToolTestRoutes(engine.tools(), engine.toolExecutor(), engine.argumentValidator(), body)::register,
        new McpServerRoutes(engine.mcpServers(), body, idempotency)::register,
        new MemoryRoutes(engine.memory(), engine.agents(), body)::register,
        new KnowledgeRoutes(engine.knowledge(), engine.runs(), engine.runStore(), mapper, body, idempotency,
            config.maxBodyBytes())::register,
        new ProviderRoutes(engine.providers(), engine.models()::listModels, body, idempotency)::register,
        new AgentRoutes(engine.agents(), body, idempotency)::register,
        new RunRoutes(engine.runs(), engine.runStore(), new EventStream(engine.runStore(), engine.notifier(), mapper),
            body, idempotency, mapper)::register,
        new CallbackRoutes(engine.callbacks(), engine.runs())::register,
        new ReplayRoutes(engine.replay(), engine.forks(), body, idempotency)::register,
        new EvaluationRoutes(engine.evaluations(), body, idempotency)::register,
        new UsageRoutes(new UsageReport(jdbi, config.modelPrices()))::register,
        new AuditRoutes(engine.audit())::register,
        new TriggerRoutes(engine.triggers(), body, idempotency)::register,
        new HookRoutes(new WebhookReceiver(engine.triggers(), engine.runs(), jdbi, mapper, engine.clock()),
            body)::register,
        new OpenAiRoutes(chatCompletions, responses, engine.runStore(), engine.notifier(), body, idempotency,
            mapper)::register,
        new AgentsMcpServer(engine.agents(), engine.runs(), mapper, version(), config.maxBodyBytes())::register));
    listen(app, config);
    return app;
  }

  private static AddressGuard addressGuard(Config config) {
    try {
      return new AddressGuard(config.httpToolAllowlist());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("ARYABHATTA_HTTP_TOOL_ALLOWLIST",
          e.getMessage().replaceFirst("^ARYABHATTA_HTTP_TOOL_ALLOWLIST: ", ""));
    }
  }

  private static void listen(Javalin app, Config config) {
    try {
      app.start(config.host(), config.port());
    } catch (JavalinBindException e) {
      throw new ConfigException("PORT", "cannot listen on " + config.host() + ":" + config.port()
          + " (the port is in use, or HOST is not an address of this machine)");
    }
  }

  /** Printed to the console, never to the log: this is the only time the key is shown. */
  private static void announceGeneratedAdminKey(String key) {
    System.out.println("""

        ====================================================================
        Generated admin API key (shown only this once; store it now):

            %s

        Set ARYABHATTA_ADMIN_KEY to use a key of your own instead.
        ====================================================================
        """.formatted(key));
    System.out.flush();
  }

  /** The project's version as the build wrote it ({@code version.properties}), whether run from the jar or from classes. */
  static String version() {
    try (java.io.InputStream in = Main.class.getResourceAsStream("version.properties")) {
      java.util.Properties properties = new java.util.Properties();
      if (in != null) {
        properties.load(in);
      }
      String v = properties.getProperty("version", "");
      return v.isBlank() || v.startsWith("${") ? "dev" : v;
    } catch (java.io.IOException e) {
      return "dev";
    }
  }
}
