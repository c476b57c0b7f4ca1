package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.aryabhatta.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Function tools a client passes with one request (the Responses API's {@code tools}), kept on
 * the run: the model is offered them after the agent's own tools, and a call of one waits for the
 * client's output like a call of a {@code client} tool of the workspace.
 */
public final class ClientTools {
  private ClientTools() {}

  public static ToolDefinition of(String name, String description, JsonNode parameters) {
    return new ToolDefinition(null, null, name, "client", description, parameters, null, false, false);
  }

  /** The agent's tools, then the client's: the names of both were checked apart when the run was created. */
  public static Map<String, ToolDefinition> offeredWith(Map<String, ToolDefinition> agentTools,
      List<ToolDefinition> clientTools) {
    if (clientTools.isEmpty()) {
      return agentTools;
    }
    Map<String, ToolDefinition> all = new LinkedHashMap<>(agentTools);
    clientTools.forEach(t -> all.putIfAbsent(t.name(), t));
    return all;
  }

  /** As stored on the run; null for none. */
  public static String toJson(ObjectMapper mapper, List<ToolDefinition> tools) {
    if (tools.isEmpty()) {
      return null;
    }
    ArrayNode array = mapper.createArrayNode();
    for (ToolDefinition t : tools) {
      array.addObject().put("name", t.name()).put("description", t.description()).set("parameters", t.parameters());
    }
    return Json.write(mapper, array);
  }

  public static List<ToolDefinition> fromJson(JsonNode stored) {
    List<ToolDefinition> tools = new ArrayList<>();
    if (stored != null && stored.isArray()) {
      stored.forEach(t -> tools.add(of(t.path("name").asText(), t.path("description").asText(null),
          t.get("parameters"))));
    }
    return List.copyOf(tools);
  }
}
