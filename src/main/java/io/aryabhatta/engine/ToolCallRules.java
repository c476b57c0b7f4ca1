package io.aryabhatta.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.tools.ArgumentValidator;
import io.aryabhatta.tools.ToolDefinition;
import java.util.Collection;
import java.util.List;

/**
 * The agent loop's decisions about a tool call the model asked for: whether it can run at all
 * (known tool, arguments valid against its schema) and whether a person must approve it first.
 * Shared by the loop and replay, so a replay judges recorded calls by today's rules.
 */
public final class ToolCallRules {
  private final ArgumentValidator validator;
  private final ObjectMapper mapper;

  public ToolCallRules(ArgumentValidator validator, ObjectMapper mapper) {
    this.validator = validator;
    this.mapper = mapper;
  }

  /** Why a call cannot run (reported to the model, which may correct itself), or null. */
  public String problem(ToolDefinition tool, String name, String arguments, Collection<String> available) {
    if (tool == null) {
      return "unknown tool '" + name + "'; available tools: " + String.join(", ", available);
    }
    JsonNode parsed = parseArguments(arguments);
    if (parsed == null) {
      return "the arguments are not a JSON object: " + abbreviate(arguments);
    }
    List<String> errors = validator.validate(tool.parameters(), parsed);
    return errors.isEmpty() ? null : "invalid arguments for '" + tool.name() + "': " + String.join("; ", errors);
  }

  /** The schema problems of {@code arguments}; empty when they are valid or not a JSON object. */
  public List<String> argumentErrors(ToolDefinition tool, String arguments) {
    JsonNode parsed = parseArguments(arguments);
    return parsed == null ? List.of() : validator.validate(tool.parameters(), parsed);
  }

  /**
   * Whether a call waits for a person before it runs, by the calling agent's {@code tool_approval}.
   * A call of an agent (kind {@code agent}) is judged like any tool: {@code always} asks before the
   * child run is created; under {@code per_tool} it does not ask, as an agent carries no
   * {@code requires_approval} of its own (its own tools follow its own policy, on the child run).
   */
  public static boolean needsApproval(AgentVersion agent, ToolDefinition tool) {
    return switch (agent.toolApproval()) {
      case "always" -> true;
      case "per_tool" -> tool.requiresApproval();
      default -> false;
    };
  }

  /** The arguments as a JSON object ({@code {}} when blank), or null when they are not one. */
  JsonNode parseArguments(String text) {
    JsonNode node = Json.treeOrNull(mapper, text == null || text.isBlank() ? "{}" : text);
    return node != null && node.isObject() ? node : null;
  }

  private static String abbreviate(String text) {
    return text == null ? "null" : text.length() <= 200 ? text : text.substring(0, 200) + "…";
  }
}
