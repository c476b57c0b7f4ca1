package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.tools.ToolDefinition;

/**
 * What a tool was when one of its calls started executing, journaled with the step: its kind and
 * id, whether it was idempotent, and for an http tool its method and URL template. A call left
 * {@code started} by a process that died is executed again only if the journal says the tool was
 * idempotent then and the tool is still the same call now; otherwise its outcome is unknown and a
 * person decides.
 */
final class ToolSnapshot {
  private ToolSnapshot() {}

  static ObjectNode of(ToolDefinition tool, ObjectMapper mapper) {
    ObjectNode snapshot = mapper.createObjectNode();
    snapshot.put("kind", tool.kind());
    snapshot.put("id", tool.id());
    snapshot.put("idempotent", tool.idempotent());
    if (tool.http() != null) {
      snapshot.put("method", tool.http().method());
      snapshot.put("url", tool.http().url());
    }
    return snapshot;
  }

  /** Whether the call journaled as {@code executedAs} may be executed again, by {@code now}, without a person. */
  static boolean mayExecuteAgain(JsonNode executedAs, ToolDefinition now, ObjectMapper mapper) {
    return executedAs != null && executedAs.path("idempotent").asBoolean(false) && now != null
        && of(now, mapper).equals(executedAs);
  }
}
