package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** A tool as the API shows it; built-ins have ids {@code builtin:<name>} and no timestamps. */
public record ToolView(String id, String name, String kind, String description, JsonNode parameters,
    HttpToolSpec http, boolean idempotent, boolean requiresApproval, Instant createdAt, Instant updatedAt) {

  static ToolView of(ToolDefinition tool, Instant createdAt, Instant updatedAt) {
    String id = tool.id() == null ? BuiltinTools.idOf(tool) : tool.id();
    return new ToolView(id, tool.name(), tool.kind(), tool.description(), tool.parameters(), tool.http(),
        tool.idempotent(), tool.requiresApproval(), createdAt, updatedAt);
  }
}
