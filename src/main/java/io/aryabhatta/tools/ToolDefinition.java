package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A tool as the agent loop sees it.
 *
 * @param id null for built-ins
 * @param workspaceId null for built-ins
 * @param kind builtin, http, client or mcp
 * @param parameters JSON Schema of the arguments
 * @param http for {@code http} tools, else null
 */
public record ToolDefinition(String id, String workspaceId, String name, String kind, String description,
    JsonNode parameters, HttpToolSpec http, boolean idempotent, boolean requiresApproval) {}
