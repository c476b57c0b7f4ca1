package io.aryabhatta;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.audit.AuditRoutes;
import io.aryabhatta.config.Config;
import io.aryabhatta.config.ConfigException;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.db.Database;
import io.aryabhatta.db.DatabaseUnavailableException;
import io.aryabhatta.db.Migrations;
import io.aryabhatta.evaluations.EvaluationRoutes;
import io.aryabhatta.evaluations.EvaluationService;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.DocsRoutes;
import io.aryabhatta.http.HealthRoutes;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.Problems;
import io.aryabhatta.http.RateLimiter;
import io.aryabhatta.http.WebServer;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.mcp.McpConnector;
import io.aryabhatta.mcp.McpServerRoutes;
import io.aryabhatta.mcp.McpServerService;
import io.aryabhatta.mcp.McpToolRunner;
import io.aryabhatta.agents.AgentRoutes;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.providers.ProviderRoutes;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.secrets.SecretKeys;
import io.aryabhatta.secrets.SecretRoutes;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.metrics.Metrics;
import io.aryabhatta.metrics.MetricsRoutes;
import io.aryabhatta.model.ModelClient;
import io.aryabhatta.openai.ChatCompletions;
import io.aryabhatta.openai.OpenAiRoutes;
import io.aryabhatta.runtime.AgentLoop;
import io.aryabhatta.runtime.EventNotifier;
import io.aryabhatta.runtime.EventStream;
import io.aryabhatta.runtime.Journal;
import io.aryabhatta.runtime.RunRoutes;
import io.aryabhatta.runtime.RunScheduler;
import io.aryabhatta.runtime.RunService;
import io.aryabhatta.runtime.RunStore;
import io.aryabhatta.runtime.ToolRetryPolicy;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.ToolExecutor;
import io.aryabhatta.tools.ToolRoutes;
import io.aryabhatta.tools.ToolTestRoutes;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.usage.UsageReport;
import io.aryabhatta.usage.UsageRoutes;
import io.aryabhatta.workspaces.WorkspaceRoutes;
import io.aryabhatta.workspaces.WorkspaceService;
import io.javalin.Javalin;
import io.javalin.util.JavalinBindException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import okhttp3.OkHttpClient;
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
    Clock clock = Clock.systemUTC();
    Ids ids = new Ids(clock);
    ObjectMapper mapper = Json.mapper();
    SecretCipher secretCipher = SecretKeys.cipher(config);
    AddressGuard addressGuard = addressGuard(config);

    Database database = Database.open(config);
    try {
      Migrations migrations = new Migrations(database.dataSource());
      int applied = migrations.apply();
      log.info("Migrations: {} applied, schema up to date", applied);
      Jdbi jdbi = database.jdbi();

      AuditLog audit = new AuditLog(jdbi, mapper);
      WorkspaceService workspaces = new WorkspaceService(jdbi, audit, ids);
      workspaces.ensureAdminKey(config.adminKey()).ifPresent(Main::announceGeneratedAdminKey);

      // Definitions: secrets, tools, providers, agents.
      SecretService secrets = new SecretService(jdbi, audit, secretCipher);
      secrets.verifyKey();
      ToolService tools = new ToolService(jdbi, audit, ids, mapper, secrets);
      McpConnector mcpConnector = new McpConnector(addressGuard);
      McpServerService mcpServers = new McpServerService(jdbi, audit, ids, mapper, secrets, mcpConnector);
      ProviderService providers =
          new ProviderService(jdbi, audit, ids, mapper, secrets, config.hfApiUrl(), config.hfToken());
      AgentService agents = new AgentService(jdbi, audit, ids, mapper, tools, providers);

      // Execution: the model client, tools, and the agent loop with its journal and scheduler.
      OkHttpClient http = new OkHttpClient();
      ModelClient models = new ModelClient(http, mapper);
      ToolExecutor toolExecutor = new ToolExecutor(http, mapper, secrets, addressGuard, clock,
          ToolExecutor.DEFAULT_MAX_RESPONSE_BYTES, new McpToolRunner(mcpServers, mcpConnector, mapper));
      ArgumentValidator argumentValidator = new ArgumentValidator();
      RunStore runStore = new RunStore(jdbi, mapper);
      EventNotifier notifier = new EventNotifier();
      Journal journal = new Journal(mapper, runStore, notifier, audit);
      AgentLoop loop = new AgentLoop(jdbi, runStore, journal, agents, tools, providers, models, toolExecutor,
          argumentValidator, ToolRetryPolicy.of(config.toolMaxAttempts()), mapper);
      RunScheduler scheduler = new RunScheduler(jdbi, loop, "node-" + ids.next(), config.lease(),
          config.maxConcurrentRuns(), Duration.ofMillis(500));
      RunService runs = new RunService(jdbi, runStore, journal, agents, scheduler, audit, ids, mapper);
      ChatCompletions chatCompletions = new ChatCompletions(agents, runs, notifier, mapper, Duration.ofMinutes(10));

      // HTTP.
      JsonBody body = new JsonBody(mapper, config.maxBodyBytes());
      Idempotency idempotency = new Idempotency(jdbi, body);
      Auth auth = new Auth(workspaces, new RateLimiter(config.rateLimitPerMinute(), clock));
      Metrics metrics = new Metrics();
      database.pool().setMetricRegistry(metrics.registry());
      Javalin app = WebServer.create(mapper, config.maxBodyBytes(), auth, new Problems(mapper), metrics, List.of(
          new HealthRoutes(database, migrations)::register,
          new MetricsRoutes(metrics, jdbi, scheduler)::register,
          new DocsRoutes()::register,
          new WorkspaceRoutes(workspaces, body, idempotency)::register,
          new SecretRoutes(secrets, body, idempotency)::register,
          new ToolRoutes(tools, body, idempotency)::register,
          new ToolTestRoutes(tools, toolExecutor, argumentValidator, body)::register,
          new McpServerRoutes(mcpServers, body, idempotency)::register,
          new ProviderRoutes(providers, models::listModels, body, idempotency)::register,
          new AgentRoutes(agents, body, idempotency)::register,
          new RunRoutes(runs, runStore, new EventStream(runStore, notifier, mapper), notifier, body, idempotency,
              mapper)::register,
          new EvaluationRoutes(new EvaluationService(jdbi, agents, runs, runStore, argumentValidator, tools.schemas(),
              audit, ids, mapper), body, idempotency)::register,
          new UsageRoutes(new UsageReport(jdbi, config.modelPrices()))::register,
          new AuditRoutes(audit)::register,
          new OpenAiRoutes(chatCompletions, runStore, notifier, body, idempotency, mapper)::register));
      try {
        listen(app, config);
      } catch (RuntimeException e) {
        scheduler.shutdown(Duration.ZERO);
        throw e;
      }
      log.info("Listening on http://{}:{} as {}", config.host(), app.port(), scheduler.node());
      return new RunningServer(app, scheduler, database, runs, notifier);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
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

  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
