package io.aryabhatta.embed;

/**
 * What a {@link JavaTool} function knows about the call it serves.
 *
 * @param workspaceId the workspace of the run that made the call
 * @param idempotencyKey stable for this tool call: if the process dies while the function runs and
 *     the call is executed again (only for {@link JavaTool#idempotent(boolean) idempotent} tools),
 *     the key is the same. Pass it on to systems that deduplicate requests.
 */
public record ToolCallContext(String workspaceId, String idempotencyKey) {}
