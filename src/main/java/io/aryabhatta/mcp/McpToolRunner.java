package io.aryabhatta.mcp;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.mcp.McpServerService.CallTarget;
import io.aryabhatta.mcp.McpServerService.MissingSecret;
import io.aryabhatta.tools.McpToolCaller;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolExecutor;
import io.aryabhatta.tools.ToolOutcome;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.Map;
import java.util.Optional;

/**
 * Executes {@code mcp} tools for {@link ToolExecutor}: one {@code tools/call} on the tool's server
 * with the call's idempotency key in {@code _meta}. A result with {@code isError}, a server that is
 * down, hangs or answers with an error: each is a tool error the model can read. One that timed
 * out or broke after the call was sent is {@link ToolOutcome#unknown}: the server may have acted.
 */
public final class McpToolRunner implements McpToolCaller {
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

  private final McpServerService servers;
  private final McpConnector connector;
  private final ObjectMapper mapper;
  private final ToolResultText resultText;

  public McpToolRunner(McpServerService servers, McpConnector connector, ObjectMapper mapper) {
    this.servers = servers;
    this.connector = connector;
    this.mapper = mapper;
    this.resultText = new ToolResultText(mapper, (int) ToolExecutor.DEFAULT_MAX_RESPONSE_BYTES);
  }

  @Override
  public ToolOutcome call(ToolDefinition tool, JsonNode arguments, ToolContext context) {
    Optional<CallTarget> target;
    try {
      target = servers.callTarget(context.workspaceId(), tool.id());
    } catch (MissingSecret e) {
      return ToolOutcome.error("MCP tool '" + tool.name() + "': " + e.getMessage(), null, 0);
    }
    if (target.isEmpty()) {
      return ToolOutcome.error("MCP tool '" + tool.name()
          + "' is no longer linked to an MCP server; import it again with POST /api/mcp_servers", null, 0);
    }
    CallTarget call = target.get();
    try {
      CallToolResult result = connector.callTool(call.endpoint(), call.remoteName(),
          mapper.convertValue(arguments, OBJECT), context.idempotencyKey());
      String text = call.redaction().apply(resultText.of(result));
      return Boolean.TRUE.equals(result.isError()) ? ToolOutcome.error(text, null, 0) : ToolOutcome.success(text, null, 0);
    } catch (McpFailure e) {
      if (e.kind() == McpFailure.Kind.INTERRUPTED) {
        // Keep the interrupt visible to the agent loop, as the HTTP tools do.
        Thread.currentThread().interrupt();
      }
      String message = call.redaction().apply(e.getMessage());
      return e.outcomeUnknown() ? ToolOutcome.unknown(message, null, 0) : ToolOutcome.error(message, null, 0);
    }
  }
}
