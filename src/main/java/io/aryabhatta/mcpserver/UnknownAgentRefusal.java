package io.aryabhatta.mcpserver;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCResponse;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCResponse.JSONRPCError;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Stands between the SDK's transport and its server to answer a {@code tools/call} of a name that
 * is no agent of the workspace with an error that names it: the SDK's own says only "Unknown
 * tool: invalid_tool_name", which tells neither a person nor a model what was wrong.
 */
final class UnknownAgentRefusal implements McpStatelessServerTransport {
  private final McpStatelessServerTransport transport;
  private final Set<String> agentNames;

  UnknownAgentRefusal(McpStatelessServerTransport transport, Set<String> agentNames) {
    this.transport = transport;
    this.agentNames = agentNames;
  }

  @Override
  public void setMcpHandler(McpStatelessServerHandler server) {
    transport.setMcpHandler(new McpStatelessServerHandler() {
      @Override
      public Mono<JSONRPCResponse> handleRequest(McpTransportContext context, McpSchema.JSONRPCRequest request) {
        String unknown = unknownToolOf(request);
        return unknown == null ? server.handleRequest(context, request)
            : Mono.just(JSONRPCResponse.error(request.id(), new JSONRPCError(McpSchema.ErrorCodes.INVALID_PARAMS,
                "no agent of this workspace is named '" + unknown + "'; tools/list gives the agents' names")));
      }

      @Override
      public Mono<Void> handleNotification(McpTransportContext context, McpSchema.JSONRPCNotification notification) {
        return server.handleNotification(context, notification);
      }
    });
  }

  /** The tool name of a {@code tools/call} when it is no agent's; otherwise null (the SDK judges the rest). */
  private String unknownToolOf(McpSchema.JSONRPCRequest request) {
    if (!McpSchema.METHOD_TOOLS_CALL.equals(request.method()) || !(request.params() instanceof Map<?, ?> params)
        || !(params.get("name") instanceof String name)) {
      return null;
    }
    return agentNames.contains(name) ? null : name;
  }

  @Override
  public Mono<Void> closeGracefully() {
    return transport.closeGracefully();
  }

  @Override
  public List<String> protocolVersions() {
    return transport.protocolVersions();
  }
}
