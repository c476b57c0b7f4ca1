package io.aryabhatta.config;

import io.github.cdimascio.dotenv.Dotenv;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads {@link Config} from the environment, then from {@code .env} in the working directory. */
public final class ConfigLoader {
  public static final String DEFAULT_HF_API_URL = "https://router.huggingface.co/v1/chat/completions";

  private final Map<String, String> values;

  private ConfigLoader(Map<String, String> values) {
    this.values = values;
  }

  /** The process environment wins over {@code .env}. */
  public static Config fromEnvironment(Path workingDir) {
    return fromEnvironment(System.getenv(), workingDir);
  }

  static Config fromEnvironment(Map<String, String> environment, Path workingDir) {
    Map<String, String> merged = new HashMap<>(readDotenv(workingDir));
    merged.putAll(environment);
    return fromMap(merged);
  }

  public static Config fromMap(Map<String, String> values) {
    return new ConfigLoader(values).load();
  }

  private static Map<String, String> readDotenv(Path dir) {
    if (!Files.isRegularFile(dir.resolve(".env"))) {
      return Map.of();
    }
    Map<String, String> entries = new HashMap<>();
    try {
      Dotenv.configure().directory(dir.toString()).ignoreIfMissing().load().entries(Dotenv.Filter.DECLARED_IN_ENV_FILE)
          .forEach(e -> entries.put(e.getKey(), e.getValue()));
    } catch (RuntimeException e) {
      throw new ConfigException(".env", "cannot be parsed (" + e.getMessage() + ")");
    }
    return entries;
  }

  private Config load() {
    return new Config(
        text("HOST").orElse("127.0.0.1"),
        integer("PORT", 8000, 0, 65535),
        text("DB_CONNECTION_STRING").map(v -> DatabaseUrl.parse("DB_CONNECTION_STRING", v)),
        Path.of(text("ARYABHATTA_DATA_DIR").orElse("./data")).toAbsolutePath().normalize(),
        text("ARYABHATTA_ADMIN_KEY").map(this::adminKey),
        text("ARYABHATTA_SECRET_KEY"),
        httpUrl("HF_API_URL", DEFAULT_HF_API_URL),
        text("HUGGING_FACE_AUTH_TOKEN"),
        Duration.ofSeconds(integer("ARYABHATTA_LEASE_SECONDS", 30, 2, 86_400)),
        list("ARYABHATTA_HTTP_TOOL_ALLOWLIST"),
        integer("ARYABHATTA_MAX_BODY_BYTES", 1024 * 1024, 1024, 256 * 1024 * 1024),
        integer("ARYABHATTA_RATE_LIMIT_PER_MINUTE", 600, 0, 1_000_000),
        integer("ARYABHATTA_DB_POOL_SIZE", 16, 2, 500),
        integer("ARYABHATTA_MAX_CONCURRENT_RUNS", 256, 1, 100_000),
        prices("ARYABHATTA_MODEL_PRICES"),
        integer("ARYABHATTA_TOOL_MAX_ATTEMPTS", 3, 1, 10),
        integer("ARYABHATTA_CALLBACK_MAX_ATTEMPTS", 8, 1, 20),
        Duration.ofSeconds(integer("ARYABHATTA_SHUTDOWN_GRACE_SECONDS", 30, 0, 3_600)),
        corsOrigins("ARYABHATTA_CORS_ORIGINS"),
        new Config.Tracing(withPrefix("OTEL_"), bool("ARYABHATTA_TRACE_CONTENT", false)));
  }

  private Map<String, String> withPrefix(String prefix) {
    Map<String, String> found = new HashMap<>();
    values.forEach((name, value) -> {
      if (name.startsWith(prefix) && value != null && !value.isBlank()) {
        found.put(name, value.strip());
      }
    });
    return Map.copyOf(found);
  }

  private boolean bool(String name, boolean fallback) {
    Optional<String> v = text(name);
    if (v.isEmpty()) {
      return fallback;
    }
    return switch (v.get().toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(name, "must be true or false, got '" + v.get() + "'");
    };
  }

  private Optional<String> text(String name) {
    String v = values.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }

  private int integer(String name, int fallback, int min, int max) {
    Optional<String> v = text(name);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.get());
      if (n < min || n > max) {
        throw new ConfigException(name, "must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(name, "must be a whole number, got '" + v.get() + "'");
    }
  }

  private String httpUrl(String name, String fallback) {
    String v = text(name).orElse(fallback);
    try {
      URI uri = URI.create(v);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new ConfigException(name, "must be an http(s) URL, got '" + v + "'");
      }
      return v;
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, "must be an http(s) URL, got '" + v + "'");
    }
  }

  private String adminKey(String key) {
    if (key.length() < 16) {
      throw new ConfigException("ARYABHATTA_ADMIN_KEY", "must be at least 16 characters long");
    }
    return key;
  }

  /** {@code {"model": {"prompt_per_million": 2.5, "completion_per_million": 10}}} */
  private Map<String, Config.ModelPrice> prices(String name) {
    Optional<String> v = text(name);
    if (v.isEmpty()) {
      return Map.of();
    }
    String example = "expected JSON like {\"gpt-4o\": {\"prompt_per_million\": 2.5, \"completion_per_million\": 10}}";
    try {
      var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(v.get());
      if (tree == null || !tree.isObject()) {
        throw new ConfigException(name, example);
      }
      Map<String, Config.ModelPrice> prices = new HashMap<>();
      for (var entry : tree.properties()) {
        var p = entry.getValue().path("prompt_per_million");
        var c = entry.getValue().path("completion_per_million");
        if (!p.isNumber() || !c.isNumber() || p.asDouble() < 0 || c.asDouble() < 0) {
          throw new ConfigException(name, "price of '" + entry.getKey() + "': " + example);
        }
        prices.put(entry.getKey(), new Config.ModelPrice(p.asDouble(), c.asDouble()));
      }
      return Map.copyOf(prices);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ConfigException(name, "is not JSON; " + example);
    }
  }

  /** Origins as a browser sends them ({@code scheme://host[:port]}, no path), or {@code *}. */
  private List<String> corsOrigins(String name) {
    List<String> origins = list(name);
    for (String origin : origins) {
      if (!origin.equals("*") && !origin.matches("https?://[^/\\s]+")) {
        throw new ConfigException(name, "each origin must be scheme://host[:port] without a path, or *; got '"
            + origin + "'");
      }
    }
    return origins.stream().map(o -> o.toLowerCase(java.util.Locale.ROOT)).toList();
  }

  private List<String> list(String name) {
    return text(name).map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList())
        .orElse(List.of());
  }
}
