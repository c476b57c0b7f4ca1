package io.aryabhatta.mcp;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An MCP server as the API shows it, with the tools imported from it.
 *
 * @param headers the header templates as written ({@code {{secret.NAME}}} unresolved)
 * @param skipped tools the server listed at the last import that could not be imported, and why
 */
public record McpServerView(String id, String name, String url, Map<String, String> headers, int timeoutMs,
    List<ImportedTool> tools, List<SkippedTool> skipped, Instant createdAt, Instant updatedAt, Instant refreshedAt) {

  /** A tool of the workspace imported from this server; {@code name} is {@code <server>__<remote_name>}. */
  public record ImportedTool(String id, String name, String remoteName, String description) {}

  /** A tool the server lists that is not usable here (bad name or schema). */
  public record SkippedTool(String name, String reason) {}

  /** What a refresh changed, by tool name. */
  public record Refreshed(McpServerView server, List<String> added, List<String> updated, List<String> removed) {}
}
