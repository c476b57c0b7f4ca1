package io.aryabhatta.providers;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.db.Rows;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentReferences;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.UniqueNames;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.json.PatchedInput;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.secrets.SecretReferences;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.workspaces.Caller;
import java.net.URI;
import java.net.URISyntaxException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * OpenAI-compatible model providers of a workspace, plus the built-in {@code hf} configured by
 * {@code HF_API_URL} and {@code HUGGING_FACE_AUTH_TOKEN}.
 */
public final class ProviderService {
  public static final String BUILTIN = "hf";
  public static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,63}$");
  static final int DEFAULT_MAX_ATTEMPTS = 3;
  static final int DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
  static final int DEFAULT_READ_TIMEOUT_MS = 120_000;
  private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$");
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
  private static final String COLUMNS = """
      id, name, base_url, api_key_secret, default_headers::text AS default_headers, max_attempts,
      connect_timeout_ms, read_timeout_ms, created_at, updated_at""";
  private static final UniqueNames NAMES = UniqueNames.of("providers", "a provider");

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final SecretService secrets;
  private final String hfBaseUrl;
  private final Optional<String> hfToken;
  private final EndpointCache endpoints;

  /**
   * @param hfApiUrl the chat-completions URL of {@code hf}; its base URL is this without
   *     {@code /chat/completions}
   */
  public ProviderService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, SecretService secrets,
      String hfApiUrl, Optional<String> hfToken) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
    this.secrets = secrets;
    this.hfBaseUrl = baseUrlOf(hfApiUrl);
    this.hfToken = hfToken;
    this.endpoints = new EndpointCache(secrets::changes);
  }

  static String baseUrlOf(String chatCompletionsUrl) {
    String url = stripTrailingSlashes(chatCompletionsUrl);
    return stripTrailingSlashes(url.endsWith("/chat/completions")
        ? url.substring(0, url.length() - "/chat/completions".length()) : url);
  }

  /** Creates a provider; 422 for invalid input or an unknown secret, 409 for a taken name. */
  public ProviderView create(Caller caller, ProviderInput input) {
    ProviderInput provider = validate(caller.workspaceId(), input);
    if (provider.name().equals(BUILTIN)) {
      throw new DomainException.Conflict("'" + BUILTIN + "' is the built-in provider");
    }
    String id = ids.next();
    return NAMES.claim(provider.name(), () -> jdbi.inTransaction(h -> {
      h.createUpdate("""
              INSERT INTO providers (id, workspace_id, name, base_url, api_key_secret, default_headers, max_attempts,
                                     connect_timeout_ms, read_timeout_ms)
              VALUES (:id, :w, :name, :baseUrl, :apiKeySecret, cast(:headers AS jsonb), :maxAttempts,
                      :connectTimeoutMs, :readTimeoutMs)""")
          .bind("id", id).bind("w", caller.workspaceId())
          .bindMap(columns(provider))
          .execute();
      audit.record(h, caller, "provider.created", "provider", id, Map.of("name", provider.name()));
      h.afterCommit(endpoints::providerChanged);
      return find(h, caller.workspaceId(), provider.name()).orElseThrow();
    }));
  }

  /** One page of the workspace's providers, {@code hf} included, ordered by name. */
  public List<ProviderView> list(String workspaceId, String afterName, int limit) {
    List<ProviderView> own = jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + """
             FROM providers
            WHERE workspace_id = :w AND (cast(:after AS text) IS NULL OR name COLLATE "C" > :after)
            ORDER BY name COLLATE "C" LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterName).bind("limit", limit)
        .map(this::view).list());
    Stream<ProviderView> builtin = afterName == null || BUILTIN.compareTo(afterName) > 0
        ? Stream.of(builtinView()) : Stream.empty();
    return Stream.concat(builtin, own.stream()).sorted(Comparator.comparing(ProviderView::name)).limit(limit).toList();
  }

  /** A provider by name; unknown or another workspace's → 404. */
  public ProviderView view(String workspaceId, String name) {
    if (name.equals(BUILTIN)) {
      return builtinView();
    }
    return jdbi.withHandle(h -> find(h, workspaceId, name)).orElseThrow(() -> notFound(name));
  }

  /** Whether {@code name} is {@code hf} or a provider of the workspace. */
  public boolean exists(String workspaceId, String name) {
    return name.equals(BUILTIN) || jdbi.withHandle(h -> find(h, workspaceId, name)).isPresent();
  }

  /** Applies a JSON Merge Patch (RFC 7386); the name cannot change, {@code hf} is read-only. */
  public ProviderView update(Caller caller, String name, JsonNode patch) {
    refuseBuiltin(name);
    ProviderView current = view(caller.workspaceId(), name);
    ProviderInput base = new ProviderInput(current.name(), current.baseUrl(), current.apiKeySecret(),
        current.defaultHeaders(), current.maxAttempts(), current.connectTimeoutMs(), current.readTimeoutMs());
    ProviderInput merged = PatchedInput.apply(mapper, base, patch, ProviderInput.class, "provider");
    if (merged.name() == null || !merged.name().equals(name)) {
      throw new DomainException.ValidationFailed("name", "cannot be changed; create a new provider instead");
    }
    ProviderInput provider = validate(caller.workspaceId(), merged);
    return jdbi.inTransaction(h -> {
      int updated = h.createUpdate("""
              UPDATE providers SET base_url = :baseUrl, api_key_secret = :apiKeySecret,
                     default_headers = cast(:headers AS jsonb), max_attempts = :maxAttempts,
                     connect_timeout_ms = :connectTimeoutMs, read_timeout_ms = :readTimeoutMs, updated_at = now()
              WHERE workspace_id = :w AND name = :name""")
          .bind("w", caller.workspaceId())
          .bindMap(columns(provider))
          .execute();
      if (updated == 0) {
        throw notFound(name);
      }
      audit.record(h, caller, "provider.updated", "provider", current.id(), Map.of("name", name));
      h.afterCommit(endpoints::providerChanged);
      return find(h, caller.workspaceId(), name).orElseThrow();
    });
  }

  /** Deletes a provider; one that a live agent uses is a 409 naming those agents. */
  public void delete(Caller caller, String name) {
    refuseBuiltin(name);
    jdbi.useTransaction(h -> {
      ProviderView current = find(h, caller.workspaceId(), name).orElseThrow(() -> notFound(name));
      List<String> agents = AgentReferences.agentsUsingProvider(h, caller.workspaceId(), name);
      if (!agents.isEmpty()) {
        throw new DomainException.Conflict("provider '" + name + "' is used by agents " + String.join(", ", agents)
            + "; move them to another provider first");
      }
      h.createUpdate("DELETE FROM providers WHERE workspace_id = :w AND name = :name")
          .bind("w", caller.workspaceId()).bind("name", name).execute();
      audit.record(h, caller, "provider.deleted", "provider", current.id(), Map.of("name", name));
      h.afterCommit(endpoints::providerChanged);
    });
  }

  /**
   * Where and how to call a provider, with its API key and header secrets decrypted. A missing
   * key is a 422 naming what to set ({@code HUGGING_FACE_AUTH_TOKEN} for {@code hf}). Kept for a
   * few seconds ({@link EndpointCache}): a run's start does not read it again.
   */
  public ModelEndpoint endpoint(String workspaceId, String providerName) {
    return endpoints.get(workspaceId, providerName, () -> readEndpoint(workspaceId, providerName));
  }

  private ModelEndpoint readEndpoint(String workspaceId, String providerName) {
    if (providerName.equals(BUILTIN)) {
      String token = hfToken.orElseThrow(() -> new DomainException.Unprocessable("provider-key-missing",
          "the built-in provider 'hf' needs an API key: set HUGGING_FACE_AUTH_TOKEN and restart the server"));
      return new ModelEndpoint(BUILTIN, hfBaseUrl, token, Map.of(), DEFAULT_MAX_ATTEMPTS,
          Duration.ofMillis(DEFAULT_CONNECT_TIMEOUT_MS), Duration.ofMillis(DEFAULT_READ_TIMEOUT_MS));
    }
    ProviderView provider = view(workspaceId, providerName);
    String apiKey = provider.apiKeySecret() == null ? null : secret(workspaceId, providerName, provider.apiKeySecret());
    Map<String, String> headers = new LinkedHashMap<>();
    provider.defaultHeaders().forEach((header, template) -> {
      Matcher m = SecretReferences.REFERENCE.matcher(template);
      headers.put(header, m.replaceAll(r -> Matcher.quoteReplacement(secret(workspaceId, providerName, r.group(1)))));
    });
    return new ModelEndpoint(providerName, provider.baseUrl(), apiKey, headers, provider.maxAttempts(),
        Duration.ofMillis(provider.connectTimeoutMs()), Duration.ofMillis(provider.readTimeoutMs()));
  }

  private String secret(String workspaceId, String providerName, String secretName) {
    return secrets.resolve(workspaceId, secretName).orElseThrow(() -> new DomainException.Unprocessable(
        "provider-key-missing", "provider '" + providerName + "' uses secret " + secretName
            + ", which does not exist; create it with POST /api/secrets"));
  }

  // --- validation -------------------------------------------------------------------------

  private ProviderInput validate(String workspaceId, ProviderInput input) {
    List<FieldError> errors = new ArrayList<>();
    if (input.name() == null || !NAME.matcher(input.name()).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    String baseUrl = input.baseUrl() == null ? null : stripTrailingSlashes(input.baseUrl().strip());
    if (baseUrl == null || baseUrl.isEmpty()) {
      errors.add(new FieldError("base_url", "is required, e.g. https://api.openai.com/v1"));
    } else if (!isHttpUrl(baseUrl)) {
      errors.add(new FieldError("base_url", "must be an absolute http or https URL without query or fragment"));
    }
    Map<String, Set<String>> secretsByField = new LinkedHashMap<>();
    if (input.apiKeySecret() != null) {
      if (!SecretService.NAME.matcher(input.apiKeySecret()).matches()) {
        errors.add(new FieldError("api_key_secret", "must be a secret name (" + SecretService.NAME.pattern() + ")"));
      } else {
        secretsByField.put("api_key_secret", Set.of(input.apiKeySecret()));
      }
    }
    Map<String, String> headers = input.defaultHeaders() == null ? Map.of() : input.defaultHeaders();
    headers.forEach((header, value) -> {
      String field = "default_headers." + header;
      if (!HEADER_NAME.matcher(header).matches()) {
        errors.add(new FieldError(field, "is not a valid header name"));
      } else if (header.equalsIgnoreCase("Authorization") && input.apiKeySecret() != null) {
        errors.add(new FieldError(field, "conflicts with api_key_secret, which sets Authorization"));
      } else if (value == null || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        errors.add(new FieldError(field, "must be a string without line breaks"));
      } else {
        secretsByField.put(field, SecretReferences.in(value));
      }
    });
    int maxAttempts = range(input.maxAttempts(), DEFAULT_MAX_ATTEMPTS, 1, 10, "max_attempts", errors);
    int connect = range(input.connectTimeoutMs(), DEFAULT_CONNECT_TIMEOUT_MS, 1, 120_000, "connect_timeout_ms", errors);
    int read = range(input.readTimeoutMs(), DEFAULT_READ_TIMEOUT_MS, 1, 600_000, "read_timeout_ms", errors);
    Set<String> all = new LinkedHashSet<>();
    secretsByField.values().forEach(all::addAll);
    Set<String> missing = secrets.missing(workspaceId, all);
    secretsByField.forEach((field, names) -> names.stream().filter(missing::contains).forEach(name ->
        errors.add(new FieldError(field, "references unknown secret " + name + "; create it with POST /api/secrets"))));
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new ProviderInput(input.name(), baseUrl, input.apiKeySecret(), headers, maxAttempts, connect, read);
  }

  private static int range(Integer value, int fallback, int min, int max, String field, List<FieldError> errors) {
    if (value == null) {
      return fallback;
    }
    if (value < min || value > max) {
      errors.add(new FieldError(field, "must be between " + min + " and " + max));
    }
    return value;
  }

  private static boolean isHttpUrl(String text) {
    try {
      URI uri = new URI(text);
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
          && uri.getQuery() == null && uri.getFragment() == null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static String stripTrailingSlashes(String url) {
    String result = url;
    while (result.endsWith("/")) {
      result = result.substring(0, result.length() - 1);
    }
    return result;
  }

  private static void refuseBuiltin(String name) {
    if (name.equals(BUILTIN)) {
      throw new DomainException.ReadOnly(
          "the built-in provider 'hf' is read-only; configure it with HF_API_URL and HUGGING_FACE_AUTH_TOKEN");
    }
  }

  private static DomainException.NotFound notFound(String name) {
    return new DomainException.NotFound("no provider named '" + name + "'");
  }

  // --- storage ----------------------------------------------------------------------------

  private ProviderView builtinView() {
    return new ProviderView("builtin:" + BUILTIN, BUILTIN, true, hfBaseUrl, null, hfToken.isPresent(), Map.of(),
        DEFAULT_MAX_ATTEMPTS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, null, null);
  }

  private Map<String, Object> columns(ProviderInput p) {
    Map<String, Object> columns = new LinkedHashMap<>();
    columns.put("name", p.name());
    columns.put("baseUrl", p.baseUrl());
    columns.put("apiKeySecret", p.apiKeySecret());
    columns.put("headers", Json.write(mapper, p.defaultHeaders()));
    columns.put("maxAttempts", p.maxAttempts());
    columns.put("connectTimeoutMs", p.connectTimeoutMs());
    columns.put("readTimeoutMs", p.readTimeoutMs());
    return columns;
  }

  private Optional<ProviderView> find(Handle h, String workspaceId, String name) {
    return h.createQuery("SELECT " + COLUMNS + " FROM providers WHERE workspace_id = :w AND name = :name")
        .bind("w", workspaceId).bind("name", name)
        .map(this::view).findOne();
  }

  private ProviderView view(ResultSet rs, StatementContext ctx) throws SQLException {
    String apiKeySecret = rs.getString("api_key_secret");
    return new ProviderView(rs.getString("id"), rs.getString("name"), false, rs.getString("base_url"), apiKeySecret,
        apiKeySecret != null, mapper.convertValue(Json.read(mapper, rs.getString("default_headers")), STRING_MAP),
        rs.getInt("max_attempts"), rs.getInt("connect_timeout_ms"), rs.getInt("read_timeout_ms"),
        Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
  }
}
