package io.aryabhatta.agents;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.db.Rows;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.UniqueNames;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.json.PatchedInput;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.tools.ToolService;
import io.aryabhatta.workspaces.Caller;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * Agents of a workspace. Every change makes a new immutable version, stored as a
 * full snapshot; deleting an agent hides it but keeps its versions readable for the runs that
 * pinned them.
 */
public final class AgentService {
  /** The tool an agent with knowledge bases searches them with. */
  public static final String KNOWLEDGE_TOOL = "search_knowledge";
  private static final int ALL_PAGE = 200;
  /** The tools an agent with memory blocks changes them with. */
  public static final String MEMORY_APPEND_TOOL = "memory_append";
  public static final String MEMORY_REPLACE_TOOL = "memory_replace";
  static final int MAX_MEMORY_BLOCKS = 10;
  static final java.util.regex.Pattern MEMORY_LABEL = java.util.regex.Pattern.compile("^[a-z][a-z0-9_]{0,31}$");
  private static final com.fasterxml.jackson.core.type.TypeReference<List<MemoryBlockSpec>> MEMORY_LIST =
      new com.fasterxml.jackson.core.type.TypeReference<>() {};
  public static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,63}$");
  static final List<String> TOOL_APPROVALS = List.of("never", "always", "per_tool");
  static final int DEFAULT_MAX_STEPS = 10;
  static final int MAX_STEPS = 100;
  static final int DEFAULT_CONTEXT_WINDOW = 8000;
  static final int MIN_CONTEXT_WINDOW = 512;
  static final int MAX_CONTEXT_WINDOW = 2_000_000;
  static final int MAX_TOOLS = 128;
  static final int MAX_DESCRIPTION_LENGTH = 4096;
  static final int MAX_SYSTEM_PROMPT_LENGTH = 200_000;
  private static final TypeReference<List<String>> STRING_LIST = new TypeReference<>() {};
  private static final String VERSION_COLUMNS = """
      v.agent_id, v.workspace_id, v.name, v.version, v.description, v.system_prompt, v.model::text AS model,
      v.tools::text AS tools, v.tool_approval, v.max_steps, v.context_window, v.knowledge::text AS knowledge,
      v.memory_blocks::text AS memory_blocks, v.agents::text AS agents,
      v.created_at""";
  private static final String LATEST = """
       FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.current_version
      WHERE a.workspace_id = :w AND a.deleted_at IS NULL""";
  private static final UniqueNames NAMES = UniqueNames.ofLiveRows("agents", "an agent");

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final ToolService tools;
  private final ProviderService providers;

  public AgentService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, ToolService tools,
      ProviderService providers) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
    this.tools = tools;
    this.providers = providers;
  }

  /** Creates an agent at version 1; 422 for invalid input, 409 when a live agent has the name. */
  public AgentView create(Caller caller, AgentInput input) {
    String id = ids.next();
    AgentVersion first = validate(caller.workspaceId(), id, 1, input);
    return NAMES.claim(first.name(), () -> jdbi.inTransaction(h -> {
      NAMES.ensureFree(h, caller.workspaceId(), first.name(), id);
      h.createUpdate("INSERT INTO agents (id, workspace_id, name, current_version) VALUES (:id, :w, :name, 1)")
          .bind("id", id).bind("w", caller.workspaceId()).bind("name", first.name())
          .execute();
      insertVersion(h, first);
      audit.record(h, caller, "agent.created", "agent", id, Map.of("name", first.name(), "version", 1));
      return latest(h, caller.workspaceId(), id).orElseThrow();
    }));
  }

  /** One page of the workspace's live agents, oldest first. */
  public List<AgentView> list(String workspaceId, String afterId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT a.id, a.created_at AS agent_created_at, "
            + "a.updated_at AS agent_updated_at, " + VERSION_COLUMNS + LATEST + """
               AND (cast(:after AS text) IS NULL OR a.id > :after)
            ORDER BY a.id LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterId).bind("limit", limit)
        .map(this::agentView).list());
  }

  /** All the workspace's live agents, oldest first, read a page at a time. */
  public List<AgentView> all(String workspaceId) {
    List<AgentView> all = new ArrayList<>();
    String after = null;
    while (true) {
      List<AgentView> page = list(workspaceId, after, ALL_PAGE);
      all.addAll(page);
      if (page.size() < ALL_PAGE) {
        return all;
      }
      after = page.get(page.size() - 1).id();
    }
  }

  /** A live agent, at its latest version; deleted, unknown or another workspace's → 404. */
  public AgentView view(String workspaceId, String id) {
    return jdbi.withHandle(h -> latest(h, workspaceId, id)).orElseThrow(() -> DomainException.NotFound.of("agent", id));
  }

  /**
   * Applies a JSON Merge Patch (RFC 7386) to the latest version and stores the result as the next
   * version. A PATCH always makes a new version, even when nothing changed.
   */
  public AgentView update(Caller caller, String id, JsonNode patch) {
    String workspaceId = caller.workspaceId();
    AgentView current = view(workspaceId, id);
    AgentVersion base = version(workspaceId, id, current.version());
    AgentInput input = PatchedInput.apply(mapper, AgentInput.of(base), patch, AgentInput.class, "agent");
    AgentVersion checked = validate(workspaceId, id, 0, input);
    return NAMES.claim(checked.name(), () -> jdbi.inTransaction(h -> {
      if (!checked.name().equals(current.name())) {
        NAMES.ensureFree(h, workspaceId, checked.name(), id);
      }
      Optional<Integer> next = h.createQuery("""
              UPDATE agents SET name = :name, current_version = current_version + 1, updated_at = now()
              WHERE id = :id AND workspace_id = :w AND deleted_at IS NULL
              RETURNING current_version""")
          .bind("name", checked.name()).bind("id", id).bind("w", workspaceId)
          .mapTo(Integer.class).findOne();
      int version = next.orElseThrow(() -> DomainException.NotFound.of("agent", id));
      insertVersion(h, withVersion(checked, version));
      audit.record(h, caller, "agent.updated", "agent", id, Map.of("name", checked.name(), "version", version));
      return latest(h, workspaceId, id).orElseThrow();
    }));
  }

  /** Soft-deletes an agent: it leaves lists and lookups, its name is free again, its versions stay. */
  public void delete(Caller caller, String id) {
    jdbi.useTransaction(h -> {
      Optional<String> name = h.createQuery("""
              UPDATE agents SET deleted_at = now() WHERE id = :id AND workspace_id = :w AND deleted_at IS NULL
              RETURNING name""")
          .bind("id", id).bind("w", caller.workspaceId())
          .mapTo(String.class).findOne();
      audit.record(h, caller, "agent.deleted", "agent", id,
          Map.of("name", name.orElseThrow(() -> DomainException.NotFound.of("agent", id))));
    });
  }

  /** One page of a live agent's versions, oldest first. */
  public List<AgentVersionView> versions(String workspaceId, String id, Integer afterVersion, int limit) {
    view(workspaceId, id);
    return jdbi.withHandle(h -> h.createQuery("SELECT " + VERSION_COLUMNS + """
             FROM agent_versions v
            WHERE v.agent_id = :id AND v.workspace_id = :w AND (cast(:after AS int) IS NULL OR v.version > :after)
            ORDER BY v.version LIMIT :limit""")
        .bind("id", id).bind("w", workspaceId).bind("after", afterVersion).bind("limit", limit)
        .map(this::agentVersion).map(AgentVersionView::of).list());
  }

  /** One version of a live agent, as the API shows it. */
  public AgentVersionView versionView(String workspaceId, String id, int version) {
    view(workspaceId, id);
    return AgentVersionView.of(version(workspaceId, id, version));
  }

  /**
   * One immutable version of an agent, for the runtime: {@code version} null means the latest
   * version of a live agent (a deleted agent starts nothing new). A given version of a deleted agent
   * stays readable, so runs that pinned it can still be read and resumed.
   *
   * @throws DomainException.NotFound for an unknown agent or version, or another workspace's agent
   */
  public AgentVersion version(String workspaceId, String agentId, Integer version) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + VERSION_COLUMNS + """
             FROM agents a JOIN agent_versions v ON v.agent_id = a.id
            WHERE a.id = :id AND a.workspace_id = :w AND v.version = coalesce(cast(:version AS int), a.current_version)
              AND (cast(:version AS int) IS NOT NULL OR a.deleted_at IS NULL)""")
        .bind("id", agentId).bind("w", workspaceId).bind("version", version)
        .map(this::agentVersion).findOne())
        .orElseThrow(() -> version == null
            ? DomainException.NotFound.of("agent", agentId)
            : new DomainException.NotFound("agent '" + agentId + "' has no version " + version));
  }

  /**
   * {@code base} with {@code overrides} merged in (a JSON Merge Patch, validated like a PATCH) but
   * stored nowhere: the effective configuration of a run started with overrides (a fork). The
   * result keeps the base's agent id and version number.
   *
   * @throws DomainException.ValidationFailed when the merged configuration is not valid
   */
  public AgentVersion withOverrides(AgentVersion base, JsonNode overrides) {
    AgentInput input = PatchedInput.apply(mapper, AgentInput.of(base), overrides, AgentInput.class, "agent");
    AgentVersion checked = validate(base.workspaceId(), base.agentId(), base.version(), input);
    return new AgentVersion(checked.agentId(), checked.workspaceId(), checked.name(), checked.version(),
        checked.description(), checked.systemPrompt(), checked.model(), checked.tools(), checked.toolApproval(),
        checked.maxSteps(), checked.contextWindow(), checked.knowledge(), checked.memoryBlocks(), checked.agents(),
        base.createdAt());
  }

  /** The latest version of the live agent named {@code name} (for the OpenAI-compatible API). */
  public Optional<AgentVersion> latestByName(String workspaceId, String name) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + VERSION_COLUMNS + LATEST + " AND a.name = :name")
        .bind("w", workspaceId).bind("name", name)
        .map(this::agentVersion).findOne());
  }

  // --- validation -------------------------------------------------------------------------

  private AgentVersion validate(String workspaceId, String id, int version, AgentInput input) {
    List<FieldError> errors = new ArrayList<>();
    if (input.name() == null || !NAME.matcher(input.name()).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    if (input.description() != null && input.description().length() > MAX_DESCRIPTION_LENGTH) {
      errors.add(new FieldError("description", "must be at most " + MAX_DESCRIPTION_LENGTH + " characters"));
    }
    String systemPrompt = input.systemPrompt() == null ? "" : input.systemPrompt();
    if (systemPrompt.length() > MAX_SYSTEM_PROMPT_LENGTH) {
      errors.add(new FieldError("system_prompt", "must be at most " + MAX_SYSTEM_PROMPT_LENGTH + " characters"));
    }
    ModelSettings model = validateModel(workspaceId, input.model(), errors);
    List<String> toolNames = input.tools() == null ? List.of() : input.tools();
    validateTools(workspaceId, toolNames, errors);
    String toolApproval = input.toolApproval() == null ? "never" : input.toolApproval();
    if (!TOOL_APPROVALS.contains(toolApproval)) {
      errors.add(new FieldError("tool_approval", "must be one of " + String.join(", ", TOOL_APPROVALS)));
    }
    int maxSteps = input.maxSteps() == null ? DEFAULT_MAX_STEPS : input.maxSteps();
    if (maxSteps < 1 || maxSteps > MAX_STEPS) {
      errors.add(new FieldError("max_steps", "must be between 1 and " + MAX_STEPS));
    }
    int contextWindow = input.contextWindow() == null ? DEFAULT_CONTEXT_WINDOW : input.contextWindow();
    if (contextWindow < MIN_CONTEXT_WINDOW || contextWindow > MAX_CONTEXT_WINDOW) {
      errors.add(new FieldError("context_window", "must be between " + MIN_CONTEXT_WINDOW + " and "
          + MAX_CONTEXT_WINDOW + " tokens"));
    }
    List<String> knowledge = input.knowledge() == null ? List.of() : input.knowledge();
    validateKnowledge(workspaceId, knowledge, toolNames, errors);
    List<MemoryBlockSpec> memoryBlocks = validateMemory(input.memoryBlocks(), toolNames, errors);
    List<String> callable = input.agents() == null ? List.of() : input.agents();
    validateAgents(workspaceId, id, input.name(), callable, toolNames, errors);
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new AgentVersion(id, workspaceId, input.name(), version, input.description(), systemPrompt, model,
        toolNames, toolApproval, maxSteps, contextWindow, knowledge, memoryBlocks, callable, null);
  }

  private ModelSettings validateModel(String workspaceId, ModelSettings model, List<FieldError> errors) {
    if (model == null) {
      errors.add(new FieldError("model", "is required, e.g. {\"provider\": \"hf\", \"name\": \"<model id>\"}"));
      return null;
    }
    String provider = model.provider() == null ? ProviderService.BUILTIN : model.provider();
    if (!providers.exists(workspaceId, provider)) {
      errors.add(new FieldError("model.provider", "unknown provider '" + provider + "'"));
    }
    if (model.name() == null || model.name().isBlank()) {
      errors.add(new FieldError("model.name", "is required"));
    } else if (model.name().length() > 256) {
      errors.add(new FieldError("model.name", "must be at most 256 characters"));
    }
    if (model.temperature() != null && !(model.temperature() >= 0 && model.temperature() <= 2)) {
      errors.add(new FieldError("model.temperature", "must be between 0 and 2"));
    }
    if (model.topP() != null && !(model.topP() >= 0 && model.topP() <= 1)) {
      errors.add(new FieldError("model.top_p", "must be between 0 and 1"));
    }
    if (model.maxTokens() != null && (model.maxTokens() < 1 || model.maxTokens() > 1_000_000)) {
      errors.add(new FieldError("model.max_tokens", "must be between 1 and 1000000"));
    }
    return new ModelSettings(provider, model.name(), model.temperature(), model.topP(), model.maxTokens(),
        model.seed());
  }

  private void validateTools(String workspaceId, List<String> names, List<FieldError> errors) {
    if (names.size() > MAX_TOOLS) {
      errors.add(new FieldError("tools", "must list at most " + MAX_TOOLS + " tools"));
      return;
    }
    Set<String> seen = new HashSet<>();
    List<String> named = names.stream().filter(n -> n != null).toList();
    Set<String> unknown = tools.unknownNames(workspaceId, named);
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String field = "tools[" + i + "]";
      if (name == null) {
        errors.add(new FieldError(field, "must be a tool name"));
      } else if (!seen.add(name)) {
        errors.add(new FieldError(field, "'" + name + "' is listed twice"));
      } else if (unknown.contains(name)) {
        errors.add(new FieldError(field, "unknown tool '" + name + "'"));
      }
    }
  }

  /**
   * Agents of the workspace the agent may call, each once, none of them itself (a deeper cycle is
   * refused when a run calls: an agent may be changed after the agents it calls were).
   */
  private void validateAgents(String workspaceId, String selfId, String selfName, List<String> names,
      List<String> toolNames, List<FieldError> errors) {
    Set<String> live = names.isEmpty() ? Set.of() : Set.copyOf(jdbi.withHandle(h -> h.createQuery(
            "SELECT name FROM agents WHERE workspace_id = :w AND deleted_at IS NULL AND name = ANY(:names)")
        .bind("w", workspaceId).bind("names", names.stream().filter(java.util.Objects::nonNull).toArray(String[]::new))
        .mapTo(String.class).list()));
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String field = "agents[" + i + "]";
      if (name == null || !NAME.matcher(name).matches()) {
        errors.add(new FieldError(field, "must be an agent name"));
      } else if (name.equals(selfName)) {
        errors.add(new FieldError(field, "an agent cannot call itself"));
      } else if (!live.contains(name)) {
        errors.add(new FieldError(field, "unknown agent '" + name + "'"));
      } else if (!seen.add(name)) {
        errors.add(new FieldError(field, "is listed twice"));
      } else if (toolNames.contains(name)) {
        errors.add(new FieldError(field, "the agent has a tool of this name already"));
      }
    }
  }

  /** Knowledge bases of the workspace, each once; their search is the agent's {@value #KNOWLEDGE_TOOL} tool. */
  private void validateKnowledge(String workspaceId, List<String> names, List<String> toolNames,
      List<FieldError> errors) {
    Set<String> seen = new HashSet<>();
    Set<String> existing = new HashSet<>(jdbi.withHandle(h -> h.createQuery(
            "SELECT name FROM knowledge_bases WHERE workspace_id = :w AND name = ANY(:names)")
        .bind("w", workspaceId).bind("names", names.stream().filter(n -> n != null).toArray(String[]::new))
        .mapTo(String.class).list()));
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String field = "knowledge[" + i + "]";
      if (name == null) {
        errors.add(new FieldError(field, "must be a knowledge base name"));
      } else if (!seen.add(name)) {
        errors.add(new FieldError(field, "'" + name + "' is listed twice"));
      } else if (!existing.contains(name)) {
        errors.add(new FieldError(field, "unknown knowledge base '" + name + "'"));
      }
    }
    if (!names.isEmpty() && toolNames.contains(KNOWLEDGE_TOOL)) {
      errors.add(new FieldError("tools", "'" + KNOWLEDGE_TOOL + "' is the name of the knowledge search tool of an "
          + "agent with knowledge bases"));
    }
  }

  /** At most {@value #MAX_MEMORY_BLOCKS} blocks, each labelled once, each holding at most 20,000 characters. */
  private static List<MemoryBlockSpec> validateMemory(List<MemoryBlockSpec> blocks, List<String> toolNames,
      List<FieldError> errors) {
    if (blocks == null || blocks.isEmpty()) {
      return List.of();
    }
    if (blocks.size() > MAX_MEMORY_BLOCKS) {
      errors.add(new FieldError("memory_blocks", "must list at most " + MAX_MEMORY_BLOCKS + " blocks"));
      return List.of();
    }
    Set<String> seen = new HashSet<>();
    List<MemoryBlockSpec> valid = new ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      MemoryBlockSpec block = blocks.get(i);
      String at = "memory_blocks[" + i + "]";
      if (block == null || block.label() == null || !MEMORY_LABEL.matcher(block.label()).matches()) {
        errors.add(new FieldError(at + ".label", "must match " + MEMORY_LABEL.pattern()));
      } else if (!seen.add(block.label())) {
        errors.add(new FieldError(at + ".label", "'" + block.label() + "' is listed twice"));
      } else if (block.limit() != null && (block.limit() < 1 || block.limit() > 20_000)) {
        errors.add(new FieldError(at + ".limit", "must be between 1 and 20000 characters"));
      } else if (block.description() != null && block.description().length() > 1_000) {
        errors.add(new FieldError(at + ".description", "must be at most 1000 characters"));
      } else {
        valid.add(new MemoryBlockSpec(block.label(), block.limitOrDefault(), block.description()));
      }
    }
    for (String tool : List.of(MEMORY_APPEND_TOOL, MEMORY_REPLACE_TOOL)) {
      if (toolNames.contains(tool)) {
        errors.add(new FieldError("tools", "'" + tool + "' is the name of a memory tool of an agent with memory "
            + "blocks"));
      }
    }
    return valid;
  }

  // --- storage ----------------------------------------------------------------------------

  private void insertVersion(Handle h, AgentVersion v) {
    h.createUpdate("""
            INSERT INTO agent_versions (agent_id, version, workspace_id, name, description, system_prompt, model, tools,
                                        tool_approval, max_steps, context_window, knowledge, memory_blocks, agents)
            VALUES (:agentId, :version, :workspaceId, :name, :description, :systemPrompt, cast(:model AS jsonb),
                    cast(:tools AS jsonb), :toolApproval, :maxSteps, :contextWindow, cast(:knowledge AS jsonb),
                    cast(:memory AS jsonb), cast(:agents AS jsonb))""")
        .bind("agentId", v.agentId()).bind("version", v.version()).bind("workspaceId", v.workspaceId())
        .bind("name", v.name()).bind("description", v.description()).bind("systemPrompt", v.systemPrompt())
        .bind("model", Json.write(mapper, v.model())).bind("tools", Json.write(mapper, v.tools()))
        .bind("toolApproval", v.toolApproval()).bind("maxSteps", v.maxSteps())
        .bind("contextWindow", v.contextWindow()).bind("knowledge", Json.write(mapper, v.knowledge()))
        .bind("memory", Json.write(mapper, v.memoryBlocks())).bind("agents", Json.write(mapper, v.agents()))
        .execute();
  }

  private static AgentVersion withVersion(AgentVersion v, int version) {
    return new AgentVersion(v.agentId(), v.workspaceId(), v.name(), version, v.description(), v.systemPrompt(),
        v.model(), v.tools(), v.toolApproval(), v.maxSteps(), v.contextWindow(), v.knowledge(), v.memoryBlocks(),
        v.agents(), v.createdAt());
  }

  private Optional<AgentView> latest(Handle h, String workspaceId, String id) {
    return h.createQuery("SELECT a.id, a.created_at AS agent_created_at, a.updated_at AS agent_updated_at, "
            + VERSION_COLUMNS + LATEST + " AND a.id = :id")
        .bind("w", workspaceId).bind("id", id)
        .map(this::agentView).findOne();
  }

  private AgentView agentView(ResultSet rs, StatementContext ctx) throws SQLException {
    return AgentView.of(agentVersion(rs, ctx), Rows.instant(rs, "agent_created_at"), Rows.instant(rs, "agent_updated_at"));
  }

  private AgentVersion agentVersion(ResultSet rs, StatementContext ctx) throws SQLException {
    try {
      return new AgentVersion(rs.getString("agent_id"), rs.getString("workspace_id"), rs.getString("name"),
          rs.getInt("version"), rs.getString("description"), rs.getString("system_prompt"),
          mapper.readValue(rs.getString("model"), ModelSettings.class),
          mapper.readValue(rs.getString("tools"), STRING_LIST), rs.getString("tool_approval"),
          rs.getInt("max_steps"), rs.getInt("context_window"),
          mapper.readValue(rs.getString("knowledge"), STRING_LIST),
          mapper.readValue(rs.getString("memory_blocks"), MEMORY_LIST),
          mapper.readValue(rs.getString("agents"), STRING_LIST), Rows.instant(rs, "created_at"));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("stored agent version " + rs.getString("agent_id") + " is not readable", e);
    }
  }
}
