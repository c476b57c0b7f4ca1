package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Runs {@code mcp} tools: a {@code tools/call} on the MCP server the tool was imported from.
 * Implemented outside this package, where MCP servers are known.
 */
@FunctionalInterface
public interface McpToolCaller {
  /** Without an MCP integration every {@code mcp} tool call is a tool error. */
  McpToolCaller NONE = (tool, arguments, context) ->
      ToolOutcome.error("MCP tools are not available in this server", null, 0);

  /**
   * Calls {@code tool} once. Every failure (server down, timeout, {@code isError}) is an error
   * outcome, never an exception, and {@link ToolOutcome#unknown} when the call may have reached the
   * server; no secret value appears in the outcome.
   *
   * @param arguments a JSON object, already validated against the tool's schema
   */
  ToolOutcome call(ToolDefinition tool, JsonNode arguments, ToolContext context);
}
