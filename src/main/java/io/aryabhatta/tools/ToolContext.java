package io.aryabhatta.tools;

/**
 * What a tool execution needs to know about the call it serves.
 *
 * @param workspaceId whose secrets {@code {{secret.NAME}}} resolves from
 * @param idempotencyKey the tool call's stable key, sent as the {@code Idempotency-Key} header (HTTP
 *     tools) or in {@code _meta.idempotency_key} (MCP tools); null sends none
 */
public record ToolContext(String workspaceId, String idempotencyKey) {}
