package io.aryabhatta.tools;

public record ToolContext(String workspaceId, String idempotencyKey) {}
