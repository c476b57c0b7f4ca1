package io.aryabhatta.tools;

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
import io.aryabhatta.secrets.SecretReferences;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.workspaces.Caller;
import java.net.URI;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * The workspace's tools and the built-ins: definition, validation, storage. Tool
 * execution lives elsewhere; this class only says what a tool is.
 */
public final class ToolService {
  public static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");
  static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
  static final int DEFAULT_TIMEOUT_MS = 10_000;
  static final int MAX_TIMEOUT_MS = 120_000;
  static final int MAX_DESCRIPTION_LENGTH = 4096;
  private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$");
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
  private static final String COLUMNS = """
      id, workspace_id, name, kind, description, parameters::text AS parameters, http::text AS http,
      idempotent, requires_approval, created_at, updated_at""";
  private static final UniqueNames NAMES = UniqueNames.of("tools", "a tool");

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final SecretService secrets;
  private final BuiltinTools builtins;
  private final ParameterSchemas schemas = new ParameterSchemas();

  /** The JSON Schema checker, built once (it is costly to build). */
  public ParameterSchemas schemas() {
    return schemas;
  }

  /** A service offering the shipped built-ins. */
  public ToolService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, SecretService secrets) {
    this(jdbi, audit, ids, mapper, secrets, new BuiltinTools(mapper));
  }

  /** A service offering {@code builtins}: the shipped ones and any the embedding application added. */
  public ToolService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, SecretService secrets,
      BuiltinTools builtins) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
    this.secrets = secrets;
    this.builtins = builtins;
  }

  private record Stored(ToolDefinition tool, Instant createdAt, Instant updatedAt) {
    ToolView view() {
      return ToolView.of(tool, createdAt, updatedAt);
    }
  }

  /** Creates an {@code http} or {@code client} tool; 422 for invalid input, 409 for a taken name. */
  public ToolView create(Caller caller, ToolInput input) {
    String id = ids.next();
    ToolDefinition tool = validate(caller.workspaceId(), id, input);
    return NAMES.claim(tool.name(), () -> jdbi.inTransaction(h -> {
      ensureNameFree(h, caller.workspaceId(), tool.name(), id);
      h.createUpdate("""
              INSERT INTO tools (id, workspace_id, name, kind, description, parameters, http, idempotent,
                                 requires_approval)
              VALUES (:id, :w, :name, :kind, :description, cast(:parameters AS jsonb), cast(:http AS jsonb),
                      :idempotent, :requiresApproval)""")
          .bind("id", id).bind("w", caller.workspaceId())
          .bindMap(columns(tool))
          .execute();
      audit.record(h, caller, "tool.created", "tool", id, Map.of("name", tool.name(), "kind", tool.kind()));
      return find(h, caller.workspaceId(), id).orElseThrow().view();
    }));
  }

  /** One page of the workspace's tools, built-ins included, ordered by name. */
  public List<ToolView> list(String workspaceId, String afterName, int limit) {
    List<ToolView> own = jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + """
             FROM tools
            WHERE workspace_id = :w AND (cast(:after AS text) IS NULL OR name COLLATE "C" > :after)
            ORDER BY name COLLATE "C" LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterName).bind("limit", limit)
        .map(this::stored).map(Stored::view).list());
    Stream<ToolView> shipped = builtins.all().stream()
        .filter(t -> afterName == null || t.name().compareTo(afterName) > 0)
        .map(t -> ToolView.of(t, null, null));
    return Stream.concat(shipped, own.stream())
        .sorted(Comparator.comparing(ToolView::name))
        .limit(limit)
        .toList();
  }

  /** A tool as the API shows it; another workspace's tool is a 404. */
  public ToolView view(String workspaceId, String id) {
    return builtins.byId(id).map(t -> ToolView.of(t, null, null))
        .orElseGet(() -> jdbi.withHandle(h -> find(h, workspaceId, id)).map(Stored::view)
            .orElseThrow(() -> DomainException.NotFound.of("tool", id)));
  }

  /**
   * Applies a JSON Merge Patch (RFC 7386) to a tool. When the patch changes the HTTP method and
   * does not say whether the tool is idempotent, the default for the new method applies again.
   */
  public ToolView update(Caller caller, String id, JsonNode patch) {
    refuseBuiltin(id);
    String workspaceId = caller.workspaceId();
    Stored current = jdbi.withHandle(h -> find(h, workspaceId, id)).orElseThrow(() -> DomainException.NotFound.of("tool", id));
    ToolInput input = PatchedInput.apply(mapper, input(current.tool()), patch, ToolInput.class, "tool");
    if (!patch.has("idempotent") && !Objects.equals(method(input), method(current.tool()))) {
      input = new ToolInput(input.name(), input.kind(), input.description(), input.parameters(), input.http(), null,
          input.requiresApproval());
    }
    if (input.kind() != null && !input.kind().equals(current.tool().kind())) {
      throw new DomainException.ValidationFailed("kind", "cannot be changed; create a new tool instead");
    }
    ToolDefinition tool = validate(workspaceId, id, input);
    String oldName = current.tool().name();
    return NAMES.claim(tool.name(), () -> jdbi.inTransaction(h -> {
      if (!tool.name().equals(oldName)) {
        ensureNameFree(h, workspaceId, tool.name(), id);
        List<String> agents = AgentReferences.agentsUsingTool(h, workspaceId, oldName);
        if (!agents.isEmpty()) {
          throw new DomainException.Conflict("tool '" + oldName + "' cannot be renamed while agents use it: "
              + String.join(", ", agents));
        }
      }
      int updated = h.createUpdate("""
              UPDATE tools SET name = :name, description = :description, parameters = cast(:parameters AS jsonb),
                     http = cast(:http AS jsonb), idempotent = :idempotent, requires_approval = :requiresApproval,
                     updated_at = now()
              WHERE id = :id AND workspace_id = :w""")
          .bind("id", id).bind("w", workspaceId)
          .bindMap(columns(tool))
          .execute();
      if (updated == 0) {
        throw DomainException.NotFound.of("tool", id);
      }
      audit.record(h, caller, "tool.updated", "tool", id, Map.of("name", tool.name()));
      return find(h, workspaceId, id).orElseThrow().view();
    }));
  }

  /** Deletes a tool; a tool that a live agent uses is a 409 naming those agents. */
  public void delete(Caller caller, String id) {
    refuseBuiltin(id);
    jdbi.useTransaction(h -> {
      Stored current = find(h, caller.workspaceId(), id).orElseThrow(() -> DomainException.NotFound.of("tool", id));
      String name = current.tool().name();
      List<String> agents = AgentReferences.agentsUsingTool(h, caller.workspaceId(), name);
      if (!agents.isEmpty()) {
        throw new DomainException.Conflict("tool '" + name + "' is used by agents " + String.join(", ", agents)
            + "; remove it from them first");
      }
      h.createUpdate("DELETE FROM tools WHERE id = :id AND workspace_id = :w")
          .bind("id", id).bind("w", caller.workspaceId()).execute();
      audit.record(h, caller, "tool.deleted", "tool", id, Map.of("name", name));
    });
  }

  /** A tool by id ({@code builtin:<name>} for built-ins); unknown or another workspace's → 404. */
  public ToolDefinition byId(String workspaceId, String id) {
    return builtins.byId(id)
        .or(() -> jdbi.withHandle(h -> find(h, workspaceId, id)).map(Stored::tool))
        .orElseThrow(() -> DomainException.NotFound.of("tool", id));
  }

  /**
   * The tools named {@code names}, in that order, built-ins included. Unknown names are a 422
   * with one error per name ({@code tools[i]}).
   */
  public List<ToolDefinition> resolve(String workspaceId, List<String> names) {
    Map<String, ToolDefinition> found = byNames(workspaceId, names);
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      if (!found.containsKey(names.get(i))) {
        errors.add(new FieldError("tools[" + i + "]", "unknown tool '" + names.get(i) + "'"));
      }
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return names.stream().map(found::get).toList();
  }

  /** The names among {@code names} that are neither built-ins nor tools of the workspace. */
  public Set<String> unknownNames(String workspaceId, Collection<String> names) {
    Set<String> unknown = new LinkedHashSet<>(names);
    unknown.removeAll(byNames(workspaceId, names).keySet());
    return unknown;
  }

  private Map<String, ToolDefinition> byNames(String workspaceId, Collection<String> names) {
    Map<String, ToolDefinition> found = new LinkedHashMap<>();
    names.forEach(n -> builtins.named(n).ifPresent(t -> found.put(n, t)));
    // A built-in wins over a workspace tool that had its name before an application added it.
    String[] others = names.stream().filter(n -> !found.containsKey(n)).distinct().toArray(String[]::new);
    if (others.length > 0) {
      jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM tools WHERE workspace_id = :w AND name = ANY(:names)")
              .bind("w", workspaceId).bind("names", others)
              .map(this::stored).list())
          .forEach(s -> found.putIfAbsent(s.tool().name(), s.tool()));
    }
    return found;
  }

  // --- validation -------------------------------------------------------------------------

  private ToolDefinition validate(String workspaceId, String id, ToolInput input) {
    List<FieldError> errors = new ArrayList<>();
    String name = input.name();
    if (name == null || !NAME.matcher(name).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    String kind = input.kind();
    if (kind == null) {
      errors.add(new FieldError("kind", "is required: http or client"));
    } else if (kind.equals(BuiltinTools.KIND)) {
      errors.add(new FieldError("kind", "built-in tools ship with the server and cannot be created"));
    } else if (kind.equals("mcp")) {
      errors.add(new FieldError("kind", "mcp tools are imported from an MCP server, not created here"));
    } else if (!kind.equals("http") && !kind.equals("client")) {
      errors.add(new FieldError("kind", "must be http or client"));
    }
    String description = input.description() == null ? "" : input.description();
    if (description.length() > MAX_DESCRIPTION_LENGTH) {
      errors.add(new FieldError("description", "must be at most " + MAX_DESCRIPTION_LENGTH + " characters"));
    }
    JsonNode parameters = input.parameters() == null || input.parameters().isNull()
        ? Json.read(mapper, "{\"type\": \"object\", \"properties\": {}}")
        : input.parameters();
    schemas.problems(parameters).forEach(p -> errors.add(new FieldError("parameters", p)));
    HttpToolSpec http = null;
    if ("http".equals(kind)) {
      if (input.http() == null) {
        errors.add(new FieldError("http", "is required for http tools"));
      } else {
        http = validateHttp(workspaceId, input.http(), propertyNames(parameters), errors);
      }
    } else if ("client".equals(kind) && input.http() != null) {
      errors.add(new FieldError("http", "only http tools have an http spec"));
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    boolean idempotent = input.idempotent() != null ? input.idempotent() : http != null && http.method().equals("GET");
    boolean requiresApproval = input.requiresApproval() != null && input.requiresApproval();
    return new ToolDefinition(id, workspaceId, name, kind, description, parameters, http, idempotent, requiresApproval);
  }

  private HttpToolSpec validateHttp(String workspaceId, ToolInput.HttpInput http, Set<String> properties,
      List<FieldError> errors) {
    String method = http.method() == null ? null : http.method().toUpperCase(Locale.ROOT);
    if (method == null || !METHODS.contains(method)) {
      errors.add(new FieldError("http.method", "must be one of " + String.join(", ", METHODS)));
    }
    Map<String, Set<String>> secretsByField = new LinkedHashMap<>();
    String url = http.url();
    if (url == null || url.isBlank()) {
      errors.add(new FieldError("http.url", "is required"));
    } else {
      checkTemplate("http.url", url, properties, errors, secretsByField);
      if (!isHttpUrl(HttpSpecPlaceholders.sample(url))) {
        errors.add(new FieldError("http.url", "must be an absolute http or https URL"));
      }
    }
    Map<String, String> headers = http.headers() == null ? Map.of() : http.headers();
    headers.forEach((header, value) -> {
      String field = "http.headers." + header;
      if (!HEADER_NAME.matcher(header).matches()) {
        errors.add(new FieldError(field, "is not a valid header name"));
      } else if (value == null) {
        errors.add(new FieldError(field, "must be a string"));
      } else if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        errors.add(new FieldError(field, "must not contain line breaks"));
      } else {
        checkTemplate(field, value, properties, errors, secretsByField);
      }
    });
    Map<String, String> query = http.query() == null ? Map.of() : http.query();
    query.forEach((param, value) -> {
      String field = "http.query." + param;
      if (param.isEmpty()) {
        errors.add(new FieldError("http.query", "parameter names must not be empty"));
      } else if (value == null) {
        errors.add(new FieldError(field, "must be a string"));
      } else {
        checkTemplate(field, value, properties, errors, secretsByField);
      }
    });
    JsonNode body = http.body() == null || http.body().isNull() ? null : http.body();
    secretsByField.put("http.body", SecretReferences.in(body));
    int timeoutMs = http.timeoutMs() == null ? DEFAULT_TIMEOUT_MS : http.timeoutMs();
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      errors.add(new FieldError("http.timeout_ms", "must be between 1 and " + MAX_TIMEOUT_MS));
    }
    checkSecretsExist(workspaceId, secretsByField, errors);
    return new HttpToolSpec(method, url, headers, query, body, timeoutMs);
  }

  private static void checkTemplate(String field, String template, Set<String> properties, List<FieldError> errors,
      Map<String, Set<String>> secretsByField) {
    if (HttpSpecPlaceholders.hasUnknownDoubleBraces(template)) {
      errors.add(new FieldError(field, "only {{secret.NAME}} may appear in double braces"));
    }
    for (String parameter : HttpSpecPlaceholders.parameters(template)) {
      if (!properties.contains(parameter)) {
        errors.add(new FieldError(field, "placeholder {" + parameter + "} is not a property of parameters"));
      }
    }
    secretsByField.put(field, SecretReferences.in(template));
  }

  private void checkSecretsExist(String workspaceId, Map<String, Set<String>> secretsByField, List<FieldError> errors) {
    Set<String> all = new LinkedHashSet<>();
    secretsByField.values().forEach(all::addAll);
    Set<String> missing = secrets.missing(workspaceId, all);
    secretsByField.forEach((field, names) -> names.stream().filter(missing::contains).forEach(name ->
        errors.add(new FieldError(field, "references unknown secret " + name + "; create it with POST /api/secrets"))));
  }

  private static boolean isHttpUrl(String text) {
    try {
      URI uri = new URI(text);
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private static Set<String> propertyNames(JsonNode parameters) {
    Set<String> names = new LinkedHashSet<>();
    JsonNode properties = parameters.path("properties");
    if (properties.isObject()) {
      properties.fieldNames().forEachRemaining(names::add);
    }
    return names;
  }

  private static void refuseBuiltin(String id) {
    if (BuiltinTools.isBuiltinId(id)) {
      throw new DomainException.ReadOnly("built-in tools are read-only");
    }
  }

  private static String method(ToolInput input) {
    return input.http() == null || input.http().method() == null ? null
        : input.http().method().toUpperCase(Locale.ROOT);
  }

  private static String method(ToolDefinition tool) {
    return tool.http() == null ? null : tool.http().method();
  }

  private static ToolInput input(ToolDefinition tool) {
    HttpToolSpec http = tool.http();
    return new ToolInput(tool.name(), tool.kind(), tool.description(), tool.parameters(),
        http == null ? null
            : new ToolInput.HttpInput(http.method(), http.url(), http.headers(), http.query(), http.body(),
                http.timeoutMs()),
        tool.idempotent(), tool.requiresApproval());
  }

  // --- storage ----------------------------------------------------------------------------

  private void ensureNameFree(Handle h, String workspaceId, String name, String id) {
    if (builtins.named(name).isPresent()) {
      throw new DomainException.Conflict("'" + name + "' is the name of a built-in tool");
    }
    NAMES.ensureFree(h, workspaceId, name, id);
  }

  private Map<String, Object> columns(ToolDefinition tool) {
    Map<String, Object> columns = new LinkedHashMap<>();
    columns.put("name", tool.name());
    columns.put("kind", tool.kind());
    columns.put("description", tool.description());
    columns.put("parameters", Json.write(mapper, tool.parameters()));
    columns.put("http", tool.http() == null ? null : Json.write(mapper, tool.http()));
    columns.put("idempotent", tool.idempotent());
    columns.put("requiresApproval", tool.requiresApproval());
    return columns;
  }

  private Optional<Stored> find(Handle h, String workspaceId, String id) {
    return h.createQuery("SELECT " + COLUMNS + " FROM tools WHERE id = :id AND workspace_id = :w")
        .bind("id", id).bind("w", workspaceId)
        .map(this::stored).findOne();
  }

  private Stored stored(ResultSet rs, StatementContext ctx) throws SQLException {
    ToolDefinition tool = new ToolDefinition(rs.getString("id"), rs.getString("workspace_id"), rs.getString("name"),
        rs.getString("kind"), rs.getString("description"), Json.read(mapper, rs.getString("parameters")),
        httpSpec(rs.getString("http")), rs.getBoolean("idempotent"), rs.getBoolean("requires_approval"));
    return new Stored(tool, Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
  }

  private HttpToolSpec httpSpec(String json) {
    if (json == null) {
      return null;
    }
    JsonNode n = Json.read(mapper, json);
    JsonNode body = n.get("body");
    return new HttpToolSpec(n.get("method").asText(), n.get("url").asText(),
        mapper.convertValue(n.get("headers"), STRING_MAP), mapper.convertValue(n.get("query"), STRING_MAP),
        body == null || body.isNull() ? null : body, n.get("timeout_ms").asInt());
  }
}
