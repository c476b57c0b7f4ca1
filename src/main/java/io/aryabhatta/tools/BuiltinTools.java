package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import java.util.List;
import java.util.Optional;

/**
 * The tools shipped with the server. They are listed with each workspace's own tools under the
 * ids {@code builtin:<name>} and cannot be changed; their {@link ToolDefinition#id()} is null.
 */
public final class BuiltinTools {
  public static final String KIND = "builtin";
  public static final String ID_PREFIX = "builtin:";

  private final List<ToolDefinition> all;

  public BuiltinTools(ObjectMapper mapper) {
    this.all = List.of(
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
