package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tools shipped with the server, and those an embedding application adds in code
 * ({@link InProcessTool}). They are listed with each workspace's own tools under the ids
 * {@code builtin:<name>} and cannot be changed; their {@link ToolDefinition#id()} is null.
 */
public final class BuiltinTools {
  public static final String KIND = "builtin";
  public static final String ID_PREFIX = "builtin:";

  private final List<ToolDefinition> all;
  private final Map<String, InProcessTool> inProcess = new LinkedHashMap<>();

  /** Only the shipped built-ins. */
  public BuiltinTools(ObjectMapper mapper) {
    this(mapper, List.of());
  }

  /**
   * The shipped built-ins plus {@code inProcess}, available to every workspace.
   *
   * @throws IllegalArgumentException when a tool's name is invalid or taken, or its parameters are
   *     not a JSON Schema of an object
   */
  public BuiltinTools(ObjectMapper mapper, List<InProcessTool> inProcess) {
    List<ToolDefinition> tools = new ArrayList<>(shipped(mapper));
    ParameterSchemas schemas = inProcess.isEmpty() ? null : new ParameterSchemas();
    for (InProcessTool tool : inProcess) {
      check(tool, tools, schemas);
      tools.add(new ToolDefinition(null, null, tool.name(), KIND, tool.description() == null ? "" : tool.description(),
          tool.parameters(), null, tool.idempotent(), tool.requiresApproval()));
      this.inProcess.put(tool.name(), tool);
    }
    this.all = List.copyOf(tools);
  }

  private static void check(InProcessTool tool, List<ToolDefinition> taken, ParameterSchemas schemas) {
    if (tool.name() == null || !ToolService.NAME.matcher(tool.name()).matches()) {
      throw new IllegalArgumentException("tool name '" + tool.name() + "' must match " + ToolService.NAME.pattern());
    }
    if (taken.stream().anyMatch(t -> t.name().equals(tool.name()))) {
      throw new IllegalArgumentException("a built-in tool named '" + tool.name() + "' already exists");
    }
    List<String> problems = schemas.problems(tool.parameters());
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("parameters of tool '" + tool.name() + "' " + String.join("; ", problems));
    }
    if (tool.handler() == null) {
      throw new IllegalArgumentException("tool '" + tool.name() + "' has no function");
    }
    if (tool.timeout() == null || !tool.timeout().isPositive()) {
      throw new IllegalArgumentException("tool '" + tool.name() + "' needs a positive timeout, not " + tool.timeout());
    }
  }

  private static List<ToolDefinition> shipped(ObjectMapper mapper) {
    return List.of(
        builtin("calculator", "Evaluate an arithmetic expression exactly (decimal arithmetic): + - * / % ^, "
            + "parentheses, unary minus. Example: (12.5 + 7) * 3", mapper, """
            {"type": "object",
             "properties": {"expression": {"type": "string", "description": "the expression, e.g. 2 * (3 + 4.5)"}},
             "required": ["expression"], "additionalProperties": false}"""),
        builtin("current_time", "The current date and time, in a given IANA time zone (default UTC).", mapper, """
            {"type": "object",
             "properties": {"timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Paris"}},
             "additionalProperties": false}"""),
        builtin("http_get", "Fetch a public web page or API over HTTP(S) and return its text (size-capped).", mapper,
            """
            {"type": "object",
             "properties": {"url": {"type": "string", "description": "an http or https URL"}},
             "required": ["url"], "additionalProperties": false}"""));
  }

  private static ToolDefinition builtin(String name, String description, ObjectMapper mapper, String schema) {
    JsonNode parameters = Json.read(mapper, schema);
    return new ToolDefinition(null, null, name, KIND, description, parameters, null, true, false);
  }

  /** The application's function behind an in-process built-in, if {@code name} is one. */
  public Optional<InProcessTool> inProcess(String name) {
    return Optional.ofNullable(inProcess.get(name));
  }

  public List<ToolDefinition> all() {
    return all;
  }

  public Optional<ToolDefinition> named(String name) {
    return all.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  public Optional<ToolDefinition> byId(String id) {
    return isBuiltinId(id) ? named(id.substring(ID_PREFIX.length())) : Optional.empty();
  }

  public static boolean isBuiltinId(String id) {
    return id != null && id.startsWith(ID_PREFIX);
  }

  public static String idOf(ToolDefinition tool) {
    return ID_PREFIX + tool.name();
  }
}
