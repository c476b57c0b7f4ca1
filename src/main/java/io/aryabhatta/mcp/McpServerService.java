package io.aryabhatta.mcp;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.tools.SecretRedaction;
import io.aryabhatta.db.Rows;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentReferences;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.UniqueNames;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.mcp.McpServerView.ImportedTool;
import io.aryabhatta.mcp.McpServerView.Refreshed;
import io.aryabhatta.mcp.McpServerView.SkippedTool;
import io.aryabhatta.secrets.SecretReferences;
import io.aryabhatta.secrets.SecretService;
import io.aryabhatta.tools.ParameterSchemas;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.workspaces.Caller;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import java.net.URI;
import java.net.URISyntaxException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * MCP servers of a workspace and the {@code mcp} tools imported from them,
 * named {@code <server>__<tool>}. Importing and refreshing talk to the server first and change
 * the database only with what it answered, in one transaction.
 */
public final class McpServerService {
  public static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,32}$");
  public static final String SEPARATOR = "__";
  static final int DEFAULT_TIMEOUT_MS = 30_000;
  static final int MAX_TIMEOUT_MS = 300_000;
  static final int MAX_DESCRIPTION_LENGTH = 4096;
  private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$");
  /** Headers the MCP transport sets itself, or that the JDK HTTP client refuses. */
  private static final Set<String> RESERVED_HEADERS = Set.of("host", "connection", "content-length", "expect",
      "upgrade", "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id");
  /** Schema dialects whose simple object schemas read the same under 2020-12, the one we validate with. */
  private static final Set<String> COMPATIBLE_DIALECTS = Set.of("http://json-schema.org/draft-07/schema",
      "https://json-schema.org/draft-07/schema", "https://json-schema.org/draft/2019-09/schema");
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
  private static final TypeReference<List<SkippedTool>> SKIPPED_LIST = new TypeReference<>() {};
  private static final String COLUMNS = """
      id, name, url, headers::text AS headers, timeout_ms, skipped::text AS skipped, created_at, updated_at,
      refreshed_at""";
  private static final UniqueNames NAMES = UniqueNames.of("mcp_servers", "an MCP server");

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final SecretService secrets;
  private final McpConnector connector;
  private final ParameterSchemas schemas = new ParameterSchemas();

  public McpServerService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, SecretService secrets,
      McpConnector connector) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
    this.secrets = secrets;
    this.connector = connector;
  }

  /** A stored server: its settings as written. */
  record Server(String id, String name, String url, Map<String, String> headers, int timeoutMs,
      List<SkippedTool> skipped, Instant createdAt, Instant updatedAt, Instant refreshedAt) {}

  /** A tool of the server as it should be stored. */
  private record Planned(String name, String remoteName, String description, JsonNode parameters,
      boolean idempotent) {}

  private record Plan(List<Planned> tools, List<SkippedTool> skipped) {}

  /** A stored link between an imported tool and its server. */
  private record Linked(String toolId, String name, String remoteName, String description, JsonNode parameters,
      boolean idempotent) {}

  /** Where an {@code mcp} tool call goes: the endpoint, secrets resolved, and the tool's name there. */
  record CallTarget(McpEndpoint endpoint, String remoteName, SecretRedaction redaction) {}

  /**
   * Connects to the server, lists its tools and imports them. 422 for invalid input, an unknown
   * secret or a blocked address; 409 for a taken server or tool name; 502 when the server cannot
   * be reached or fails (nothing is stored then).
   */
  public McpServerView create(Caller caller, McpServerInput input) {
    String workspaceId = caller.workspaceId();
    McpServerInput server = validate(workspaceId, input);
    // Checked before talking to the server, so a taken name costs no remote call.
    jdbi.useHandle(h -> NAMES.ensureFree(h, workspaceId, server.name()));
    Plan plan = plan(server.name(), listRemote(workspaceId, server.name(), server.url(), server.headers(),
        server.timeoutMs()));
    String id = ids.next();
    return NAMES.claim(server.name(), () -> jdbi.inTransaction(h -> {
      h.createUpdate("""
              INSERT INTO mcp_servers (id, workspace_id, name, url, headers, timeout_ms, skipped)
              VALUES (:id, :w, :name, :url, cast(:headers AS jsonb), :timeoutMs, cast(:skipped AS jsonb))""")
          .bind("id", id).bind("w", workspaceId).bind("name", server.name()).bind("url", server.url())
          .bind("headers", Json.write(mapper, server.headers())).bind("timeoutMs", server.timeoutMs())
          .bind("skipped", Json.write(mapper, plan.skipped()))
          .execute();
      for (Planned tool : plan.tools()) {
        insertTool(h, caller, id, tool);
      }
      audit.record(h, caller, "mcp_server.created", "mcp_server", id, Map.of("name", server.name(),
          "url", server.url(), "tools", plan.tools().stream().map(Planned::name).toList()));
      return view(h, find(h, workspaceId, "id", id, false).orElseThrow());
    }));
  }

  /** One page of the workspace's MCP servers, ordered by name. */
  public List<McpServerView> list(String workspaceId, String afterName, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + """
             FROM mcp_servers
            WHERE workspace_id = :w AND (cast(:after AS text) IS NULL OR name COLLATE "C" > :after)
            ORDER BY name COLLATE "C" LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterName).bind("limit", limit)
        .map(this::server).list()
        .stream().map(s -> view(h, s)).toList());
  }

  /** A server by id; unknown or another workspace's → 404. */
  public McpServerView view(String workspaceId, String id) {
    return jdbi.withHandle(h -> view(h, find(h, workspaceId, "id", id, false).orElseThrow(() -> notFound(id))));
  }

  /**
   * Lists the server's tools again: new ones are imported, changed ones updated, vanished ones
   * removed. A vanished tool that a live agent uses is a 409 and nothing changes.
   */
  public Refreshed refresh(Caller caller, String id) {
    String workspaceId = caller.workspaceId();
    Server current = jdbi.withHandle(h -> find(h, workspaceId, "id", id, false)).orElseThrow(() -> notFound(id));
    Plan plan = plan(current.name(), listRemote(workspaceId, current.name(), current.url(), current.headers(),
        current.timeoutMs()));
    return jdbi.inTransaction(h -> {
      Server server = find(h, workspaceId, "id", id, true).orElseThrow(() -> notFound(id));
      Map<String, Linked> linked = new LinkedHashMap<>();
      links(h, server.id()).forEach(l -> linked.put(l.remoteName(), l));
      Set<String> listed = new LinkedHashSet<>();
      List<String> added = new ArrayList<>();
      List<String> updated = new ArrayList<>();
      List<String> removed = new ArrayList<>();
      for (Planned tool : plan.tools()) {
        listed.add(tool.remoteName());
        Linked existing = linked.get(tool.remoteName());
        if (existing == null) {
          insertTool(h, caller, server.id(), tool);
          added.add(tool.name());
        } else if (!existing.description().equals(tool.description())
            || !existing.parameters().equals(tool.parameters()) || existing.idempotent() != tool.idempotent()) {
          h.createUpdate("""
                  UPDATE tools SET description = :description, parameters = cast(:parameters AS jsonb),
                         idempotent = :idempotent, updated_at = now()
                  WHERE id = :id AND workspace_id = :w""")
              .bind("id", existing.toolId()).bind("w", workspaceId).bind("description", tool.description())
              .bind("parameters", Json.write(mapper, tool.parameters())).bind("idempotent", tool.idempotent())
              .execute();
          audit.record(h, caller, "tool.updated", "tool", existing.toolId(),
              Map.of("name", existing.name(), "mcp_server", server.name()));
          updated.add(existing.name());
        }
      }
      List<Linked> vanished = linked.values().stream().filter(l -> !listed.contains(l.remoteName())).toList();
      refuseIfUsed(h, workspaceId, vanished, "MCP server '" + server.name() + "' no longer lists");
      for (Linked tool : vanished) {
        deleteTool(h, caller, workspaceId, server.name(), tool);
        removed.add(tool.name());
      }
      h.createUpdate("""
              UPDATE mcp_servers SET skipped = cast(:skipped AS jsonb), refreshed_at = now()
              WHERE id = :id""")
          .bind("id", server.id()).bind("skipped", Json.write(mapper, plan.skipped())).execute();
      audit.record(h, caller, "mcp_server.refreshed", "mcp_server", server.id(),
          Map.of("name", server.name(), "added", added, "updated", updated, "removed", removed));
      return new Refreshed(view(h, find(h, workspaceId, "id", id, false).orElseThrow()), added, updated, removed);
    });
  }

  /** Deletes a server and its tools; 409 naming the agents when a live agent uses one of them. */
  public void delete(Caller caller, String id) {
    String workspaceId = caller.workspaceId();
    jdbi.useTransaction(h -> {
      Server server = find(h, workspaceId, "id", id, true).orElseThrow(() -> notFound(id));
      List<Linked> tools = links(h, server.id());
      refuseIfUsed(h, workspaceId, tools, "MCP server '" + server.name() + "' provides");
      for (Linked tool : tools) {
        deleteTool(h, caller, workspaceId, server.name(), tool);
      }
      h.createUpdate("DELETE FROM mcp_servers WHERE id = :id AND workspace_id = :w")
          .bind("id", server.id()).bind("w", workspaceId).execute();
      audit.record(h, caller, "mcp_server.deleted", "mcp_server", server.id(), Map.of("name", server.name()));
    });
  }

  /**
   * Where a call of the {@code mcp} tool {@code toolId} goes, with header secrets filled in. Empty
   * when the tool is not linked to a server of the workspace.
   *
   * @throws MissingSecret when a header refers to a secret that no longer exists
   */
  Optional<CallTarget> callTarget(String workspaceId, String toolId) throws MissingSecret {
    Optional<Map.Entry<Server, String>> found = jdbi.withHandle(h -> h.createQuery("""
            SELECT s.id, s.name, s.url, s.headers::text AS headers, s.timeout_ms, s.skipped::text AS skipped,
                   s.created_at, s.updated_at, s.refreshed_at, m.remote_name
              FROM mcp_tools m JOIN mcp_servers s ON s.id = m.server_id
             WHERE m.tool_id = :tool AND s.workspace_id = :w""")
        .bind("tool", toolId).bind("w", workspaceId)
        .map((rs, ctx) -> Map.entry(server(rs, ctx), rs.getString("remote_name")))
        .findOne());
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Server server = found.get().getKey();
    Set<String> injected = new LinkedHashSet<>();
    McpEndpoint endpoint = endpoint(workspaceId, server.name(), server.url(), server.headers(), server.timeoutMs(),
        injected);
    return Optional.of(new CallTarget(endpoint, found.get().getValue(), SecretRedaction.of(injected)));
  }

  /** A header refers to a secret that does not exist (any more). */
  static final class MissingSecret extends Exception {
    MissingSecret(String name) {
      super("secret '" + name + "' is not set in this workspace (create it with POST /api/secrets)", null, false,
          false);
    }
  }

  // --- talking to the server ------------------------------------------------------------------

  private List<Tool> listRemote(String workspaceId, String name, String url, Map<String, String> templates,
      int timeoutMs) {
    Set<String> injected = new LinkedHashSet<>();
    McpEndpoint endpoint;
    try {
      endpoint = endpoint(workspaceId, name, url, templates, timeoutMs, injected);
    } catch (MissingSecret e) {
      throw new DomainException.Unprocessable("secret-missing", "MCP server '" + name + "': " + e.getMessage());
    }
    try {
      return connector.listTools(endpoint);
    } catch (McpFailure e) {
      String message = SecretRedaction.of(injected).apply(e.getMessage());
      if (e.kind() == McpFailure.Kind.BLOCKED) {
        throw new DomainException.ValidationFailed("url", message);
      }
      throw new DomainException.UpstreamFailed("could not list the tools of MCP server '" + name + "': " + message);
    }
  }

  /** A server's endpoint with its header secrets filled in; the secret values used go to {@code injected}. */
  private McpEndpoint endpoint(String workspaceId, String name, String url, Map<String, String> templates,
      int timeoutMs, Set<String> injected) throws MissingSecret {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> header : templates.entrySet()) {
      headers.put(header.getKey(), fill(workspaceId, header.getValue(), injected));
    }
    return new McpEndpoint(name, url, headers, Duration.ofMillis(timeoutMs));
  }

  private String fill(String workspaceId, String template, Set<String> injected) throws MissingSecret {
    Matcher m = SecretReferences.REFERENCE.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = secrets.resolve(workspaceId, m.group(1)).orElse(null);
      if (value == null) {
        throw new MissingSecret(m.group(1));
      }
      injected.add(value);
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    return m.appendTail(out).toString();
  }

  /** Which of the listed tools can be imported, under which names, and which cannot and why. */
  private Plan plan(String serverName, List<Tool> listed) {
    List<Planned> tools = new ArrayList<>();
    List<SkippedTool> skipped = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (Tool tool : listed) {
      String remote = tool.name() == null ? "" : tool.name();
      String name = serverName + SEPARATOR + remote;
      if (!seen.add(remote)) {
        skipped.add(new SkippedTool(remote, "listed twice"));
        continue;
      }
      if (!ToolService.NAME.matcher(name).matches()) {
        skipped.add(new SkippedTool(remote, "'" + name + "' is not a valid tool name (" + ToolService.NAME.pattern()
            + "); models accept no other"));
        continue;
      }
      JsonNode parameters = parameters(tool);
      List<String> problems = schemas.problems(parameters);
      if (!problems.isEmpty()) {
        skipped.add(new SkippedTool(remote, "input schema " + String.join("; ", problems)));
        continue;
      }
      String description = tool.description() != null ? tool.description()
          : tool.title() != null ? tool.title() : "";
      if (description.length() > MAX_DESCRIPTION_LENGTH) {
        description = description.substring(0, MAX_DESCRIPTION_LENGTH);
      }
      // The server's own hints decide only whether a call whose outcome was lost may be repeated.
      boolean idempotent = tool.annotations() != null && (Boolean.TRUE.equals(tool.annotations().idempotentHint())
          || Boolean.TRUE.equals(tool.annotations().readOnlyHint()));
      tools.add(new Planned(name, remote, description, parameters, idempotent));
    }
    return new Plan(tools, skipped);
  }

  private JsonNode parameters(Tool tool) {
    if (tool.inputSchema() == null) {
      return Json.read(mapper, "{\"type\": \"object\", \"properties\": {}}");
    }
    JsonNode schema = mapper.valueToTree(tool.inputSchema());
    JsonNode dialect = schema.get("$schema");
    if (schema instanceof ObjectNode object && dialect != null && dialect.isTextual()
        && COMPATIBLE_DIALECTS.contains(dialect.asText().replaceAll("#$", ""))) {
      object.remove("$schema");
    }
    return schema;
  }

  // --- validation -----------------------------------------------------------------------------

  private McpServerInput validate(String workspaceId, McpServerInput input) {
    List<FieldError> errors = new ArrayList<>();
    if (input.name() == null || !NAME.matcher(input.name()).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    String url = input.url() == null ? null : input.url().strip();
    if (url == null || url.isEmpty()) {
      errors.add(new FieldError("url", "is required, e.g. https://mcp.example.com/mcp"));
    } else {
      urlProblem(url).ifPresent(problem -> errors.add(new FieldError("url", problem)));
    }
    Map<String, String> headers = input.headers() == null ? Map.of() : input.headers();
    Map<String, Set<String>> secretsByField = new LinkedHashMap<>();
    headers.forEach((header, value) -> {
      String field = "headers." + header;
      if (!HEADER_NAME.matcher(header).matches()) {
        errors.add(new FieldError(field, "is not a valid header name"));
      } else if (RESERVED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
        errors.add(new FieldError(field, "is set by the MCP transport and cannot be overridden"));
      } else if (value == null || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        errors.add(new FieldError(field, "must be a string without line breaks"));
      } else if (SecretReferences.REFERENCE.matcher(value).replaceAll("").contains("{{")) {
        errors.add(new FieldError(field, "only {{secret.NAME}} may appear in double braces"));
      } else {
        secretsByField.put(field, SecretReferences.in(value));
      }
    });
    int timeoutMs = input.timeoutMs() == null ? DEFAULT_TIMEOUT_MS : input.timeoutMs();
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      errors.add(new FieldError("timeout_ms", "must be between 1 and " + MAX_TIMEOUT_MS));
    }
    Set<String> all = new LinkedHashSet<>();
    secretsByField.values().forEach(all::addAll);
    Set<String> missing = secrets.missing(workspaceId, all);
    secretsByField.forEach((field, names) -> names.stream().filter(missing::contains).forEach(name ->
        errors.add(new FieldError(field, "references unknown secret " + name + "; create it with POST /api/secrets"))));
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new McpServerInput(input.name(), url, headers, timeoutMs);
  }

  private static Optional<String> urlProblem(String url) {
    try {
      URI uri = new URI(url);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        return Optional.of("must be an absolute http or https URL");
      }
      if (uri.getRawUserInfo() != null) {
        return Optional.of("must not contain credentials; send them in headers with {{secret.NAME}}");
      }
      if (uri.getRawFragment() != null) {
        return Optional.of("must not have a fragment");
      }
      return Optional.empty();
    } catch (URISyntaxException e) {
      return Optional.of("is not a valid URL");
    }
  }

  // --- storage --------------------------------------------------------------------------------

  private void insertTool(Handle h, Caller caller, String serverId, Planned tool) {
    // Imported names always contain "__", which no built-in name does, so only stored tools can clash.
    Optional<String> taken = h.createQuery("SELECT kind FROM tools WHERE workspace_id = :w AND name = :name")
        .bind("w", caller.workspaceId()).bind("name", tool.name()).mapTo(String.class).findOne();
    if (taken.isPresent()) {
      throw new DomainException.Conflict("a tool named '" + tool.name() + "' already exists (kind " + taken.get()
          + "); rename or delete it, or give the MCP server another name");
    }
    String toolId = ids.next();
    h.createUpdate("""
            INSERT INTO tools (id, workspace_id, name, kind, description, parameters, http, idempotent,
                               requires_approval)
            VALUES (:id, :w, :name, 'mcp', :description, cast(:parameters AS jsonb), NULL, :idempotent, false)""")
        .bind("id", toolId).bind("w", caller.workspaceId()).bind("name", tool.name())
        .bind("description", tool.description()).bind("parameters", Json.write(mapper, tool.parameters()))
        .bind("idempotent", tool.idempotent())
        .execute();
    h.createUpdate("INSERT INTO mcp_tools (tool_id, server_id, remote_name) VALUES (:tool, :server, :remote)")
        .bind("tool", toolId).bind("server", serverId).bind("remote", tool.remoteName())
        .execute();
    audit.record(h, caller, "tool.created", "tool", toolId, Map.of("name", tool.name(), "kind", "mcp"));
  }

  private void deleteTool(Handle h, Caller caller, String workspaceId, String serverName, Linked tool) {
    h.createUpdate("DELETE FROM tools WHERE id = :id AND workspace_id = :w")
        .bind("id", tool.toolId()).bind("w", workspaceId).execute();
    audit.record(h, caller, "tool.deleted", "tool", tool.toolId(),
        Map.of("name", tool.name(), "mcp_server", serverName));
  }

  private static void refuseIfUsed(Handle h, String workspaceId, List<Linked> tools, String what) {
    List<String> inUse = new ArrayList<>();
    for (Linked tool : tools) {
      List<String> agents = AgentReferences.agentsUsingTool(h, workspaceId, tool.name());
      if (!agents.isEmpty()) {
        inUse.add(tool.name() + " (used by agents " + String.join(", ", agents) + ")");
      }
    }
    if (!inUse.isEmpty()) {
      throw new DomainException.Conflict(what + " tools that agents use: " + String.join("; ", inUse)
          + "; remove them from those agents first");
    }
  }

  private List<Linked> links(Handle h, String serverId) {
    return h.createQuery("""
            SELECT t.id, t.name, m.remote_name, t.description, t.parameters::text AS parameters, t.idempotent
              FROM mcp_tools m JOIN tools t ON t.id = m.tool_id
             WHERE m.server_id = :server
             ORDER BY t.name COLLATE "C"
            """)
        .bind("server", serverId)
        .map((rs, ctx) -> new Linked(rs.getString("id"), rs.getString("name"), rs.getString("remote_name"),
            rs.getString("description"), Json.read(mapper, rs.getString("parameters")), rs.getBoolean("idempotent")))
        .list();
  }

  private Optional<Server> find(Handle h, String workspaceId, String column, String value, boolean lock) {
    return h.createQuery("SELECT " + COLUMNS + " FROM mcp_servers WHERE workspace_id = :w AND " + column + " = :v"
            + (lock ? " FOR UPDATE" : ""))
        .bind("w", workspaceId).bind("v", value)
        .map(this::server).findOne();
  }

  private McpServerView view(Handle h, Server server) {
    List<ImportedTool> tools = links(h, server.id()).stream()
        .map(l -> new ImportedTool(l.toolId(), l.name(), l.remoteName(), l.description())).toList();
    return new McpServerView(server.id(), server.name(), server.url(), server.headers(), server.timeoutMs(), tools,
        server.skipped(), server.createdAt(), server.updatedAt(), server.refreshedAt());
  }

  private Server server(ResultSet rs, StatementContext ctx) throws SQLException {
    return new Server(rs.getString("id"), rs.getString("name"), rs.getString("url"),
        mapper.convertValue(Json.read(mapper, rs.getString("headers")), STRING_MAP), rs.getInt("timeout_ms"),
        mapper.convertValue(Json.read(mapper, rs.getString("skipped")), SKIPPED_LIST),
        Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"), Rows.instant(rs, "refreshed_at"));
  }


  private static DomainException.NotFound notFound(String id) {
    return DomainException.NotFound.of("MCP server", id);
  }
}
