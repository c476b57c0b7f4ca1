package io.aryabhatta.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the server reads from its environment, checked once at startup.
 *
 * @param host listen address ({@code HOST})
 * @param port listen port, 0 for any free port ({@code PORT})
 * @param database external PostgreSQL; empty means the embedded one ({@code DB_CONNECTION_STRING})
 * @param dataDir embedded database and generated keys ({@code ARYABHATTA_DATA_DIR})
 * @param adminKey admin API key; empty means generated on first start ({@code ARYABHATTA_ADMIN_KEY})
 * @param secretKey key encrypting stored secrets; empty means generated into the data folder
 *     ({@code ARYABHATTA_SECRET_KEY})
 * @param hfApiUrl chat-completions URL of the built-in provider {@code hf} ({@code HF_API_URL})
 * @param hfToken API key of {@code hf} ({@code HUGGING_FACE_AUTH_TOKEN})
 * @param lease how long a node's claim on a run lasts without a heartbeat ({@code ARYABHATTA_LEASE_SECONDS})
 * @param httpToolAllowlist hosts and CIDRs HTTP tools may reach although private
 *     ({@code ARYABHATTA_HTTP_TOOL_ALLOWLIST})
 * @param maxBodyBytes largest accepted request body ({@code ARYABHATTA_MAX_BODY_BYTES})
 * @param rateLimitPerMinute requests per minute allowed to one API key, 0 for no limit
 *     ({@code ARYABHATTA_RATE_LIMIT_PER_MINUTE})
 * @param dbPoolSize connections in the pool ({@code ARYABHATTA_DB_POOL_SIZE})
 * @param maxConcurrentRuns runs this process executes at once; more wait in the queue
 *     ({@code ARYABHATTA_MAX_CONCURRENT_RUNS})
 * @param modelPrices price per million tokens by model name, for cost in usage reports
 *     ({@code ARYABHATTA_MODEL_PRICES})
 * @param toolMaxAttempts attempts of an {@code idempotent} tool call that fails transiently
 *     (timeout, refused connection, 408, 429, 5xx), including the first; 1 = no retry
 *     ({@code ARYABHATTA_TOOL_MAX_ATTEMPTS})
 * @param callbackMaxAttempts attempts of a run's callback, including the first, before it is given up
 *     ({@code ARYABHATTA_CALLBACK_MAX_ATTEMPTS})
 * @param shutdownGrace how long a stopping process lets calls in flight finish and commit
 *     ({@code ARYABHATTA_SHUTDOWN_GRACE_SECONDS})
 * @param corsOrigins origins whose pages may call {@code /api} and {@code /v1} from a browser, or
 *     {@code *} for any; empty: none ({@code ARYABHATTA_CORS_ORIGINS})
 * @param tracing OpenTelemetry traces of runs ({@code OTEL_*}, {@code ARYABHATTA_TRACE_CONTENT})
 */
public record Config(
    String host,
    int port,
    Optional<DatabaseUrl> database,
    Path dataDir,
    Optional<String> adminKey,
    Optional<String> secretKey,
    String hfApiUrl,
    Optional<String> hfToken,
    Duration lease,
    List<String> httpToolAllowlist,
    long maxBodyBytes,
    int rateLimitPerMinute,
    int dbPoolSize,
    int maxConcurrentRuns,
    Map<String, ModelPrice> modelPrices,
    int toolMaxAttempts,
    int callbackMaxAttempts,
    Duration shutdownGrace,
    List<String> corsOrigins,
    Tracing tracing) {

  /** US dollars (or any one currency) per million prompt and completion tokens. */
  public record ModelPrice(double promptPerMillion, double completionPerMillion) {}

  /**
   * Traces of runs, exported over OTLP by the OpenTelemetry SDK.
   *
   * @param otel every {@code OTEL_*} variable, as set (the SDK reads the endpoint, headers,
   *     protocol, service name, sampler and batch delays from them)
   * @param content prompts, model answers and tool arguments and results go into spans
   *     ({@code ARYABHATTA_TRACE_CONTENT}); off by default
   */
  public record Tracing(Map<String, String> otel, boolean content) {
    /** On once an OTLP endpoint is set, unless the SDK is disabled. */
    public boolean enabled() {
      boolean endpoint = isSet("OTEL_EXPORTER_OTLP_ENDPOINT") || isSet("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
      return endpoint && !"true".equalsIgnoreCase(otel.getOrDefault("OTEL_SDK_DISABLED", "").strip());
    }

    private boolean isSet(String name) {
      String v = otel.get(name);
      return v != null && !v.isBlank();
    }

    /** Never the headers: they usually carry the collector's credentials. */
    @Override
    public String toString() {
      return enabled() ? "on" + (content ? " with content" : "") : "off";
    }
  }

  public Path embeddedDatabaseDir() {
    return dataDir.resolve("postgres");
  }

  /** Secrets are masked so that a config can be logged. */
  @Override
  public String toString() {
    return "Config[host=" + host + ", port=" + port
        + ", database=" + database.map(DatabaseUrl::describe).orElse("embedded")
        + ", dataDir=" + dataDir
        + ", adminKey=" + adminKey.map(k -> "***").orElse("generated")
        + ", secretKey=" + secretKey.map(k -> "***").orElse("generated")
        + ", hfApiUrl=" + hfApiUrl
        + ", hfToken=" + hfToken.map(k -> "***").orElse("unset")
        + ", lease=" + lease
        + ", httpToolAllowlist=" + httpToolAllowlist
        + ", maxBodyBytes=" + maxBodyBytes
        + ", rateLimitPerMinute=" + rateLimitPerMinute
        + ", dbPoolSize=" + dbPoolSize
        + ", maxConcurrentRuns=" + maxConcurrentRuns
        + ", modelPrices=" + modelPrices.keySet()
        + ", corsOrigins=" + corsOrigins
        + ", tracing=" + tracing
        + ", toolMaxAttempts=" + toolMaxAttempts
        + ", callbackMaxAttempts=" + callbackMaxAttempts
        + ", shutdownGrace=" + shutdownGrace + "]";
  }
}
