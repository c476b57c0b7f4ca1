package io.aryabhatta.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The passages a run's answer cites: each {@code chunk:<id>} in its output that one of the run's
 * own {@code search_knowledge} steps returned, with the passage as that step recorded it (the
 * journal, not the knowledge base as it is now, which may have changed since).
 */
final class Citations {
  private static final Pattern CITED = Pattern.compile("chunk:([0-9a-zA-Z-]{8,64})");

  private Citations() {}

  static List<JsonNode> of(String output, List<Step> steps, ObjectMapper mapper) {
    Set<String> cited = new LinkedHashSet<>();
    Matcher m = CITED.matcher(output == null ? "" : output);
    while (m.find()) {
      cited.add(m.group(1));
    }
    Map<String, JsonNode> found = new LinkedHashMap<>();
    for (Step step : steps) {
      if (!step.isToolCall() || !AgentService.KNOWLEDGE_TOOL.equals(step.name())
          || step.status() != StepStatus.COMPLETED || step.result() == null) {
        continue;
      }
      JsonNode result = Json.treeOrNull(mapper, step.result());
      if (result == null) {
        continue;
      }
      for (JsonNode passage : result.path("results")) {
        String id = passage.path("citation").asText().replaceFirst("^chunk:", "");
        found.putIfAbsent(id, passage);
      }
    }
    List<JsonNode> citations = new ArrayList<>();
    for (String id : cited) {
      JsonNode passage = found.get(id);
      if (passage != null) {
        citations.add(((ObjectNode) mapper.createObjectNode().put("chunk_id", id)).setAll((ObjectNode) passage));
      }
    }
    return citations;
  }
}
