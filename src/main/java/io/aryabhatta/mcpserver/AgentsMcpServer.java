package io.aryabhatta.mcpserver;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.http.Auth;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.spec.McpSchema.ServerCapabilities;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The workspace's agents as an MCP server (streamable HTTP) at {@code /mcp}, for MCP clients such
 * as Claude Desktop, Cursor or another agent framework. The workspace key is the bearer token,
 * checked before this like on every API route.
 *
 * <p>The server is stateless, built by the MCP Java SDK for each request from the caller's
 * agents: each workspace sees only its own agents, under their own names, and an agent created
 * or changed is a tool at once. Nothing is held between requests, so any node can answer any.
 */
public final class AgentsMcpServer {
  public static final String PATH = "/mcp";
  /**
   * How long a tool call waits for its run. MCP clients give up on a request after about a minute
   * unless told otherwise, so the call answers before that, naming the run, which goes on.
   */
  private static final Duration MAX_WAIT = Duration.ofSeconds(50);
  /** Time for the SDK to write the answer after a tool call has waited its longest. */
  private static final Duration ANSWER_MARGIN = Duration.ofSeconds(30);

  private static final McpJsonMapper JSON = McpJsonDefaults.getMapper();
  private static final JsonSchemaValidator SCHEMA_VALIDATOR = McpJsonDefaults.getSchemaValidator();

  private final AgentTools tools;
  private final String version;
  private final int maxBodyBytes;

  public AgentsMcpServer(AgentService agents, RunService runs, ObjectMapper mapper, String version,
      long maxBodyBytes) {
    this.tools = new AgentTools(agents, runs, mapper, MAX_WAIT);
    this.version = version;
    this.maxBodyBytes = (int) Math.min(Integer.MAX_VALUE, maxBodyBytes);
  }

  public void register(RoutesConfig routes) {
    routes.post(PATH, this::answer);
  }

  private void answer(Context ctx) throws Exception {
    Caller caller = Auth.caller(ctx);
    HttpServletStatelessServerTransport transport = HttpServletStatelessServerTransport.builder()
        .jsonMapper(JSON)
        .messageEndpoint(PATH)
        .maxRequestSize(maxBodyBytes)
        .build();
    List<SyncToolSpecification> agentTools = tools.of(caller);
    Set<String> agentNames = agentTools.stream().map(t -> t.tool().name()).collect(Collectors.toSet());
    McpServer.sync(new UnknownAgentRefusal(transport, agentNames))
        .serverInfo("aryabhatta", version)
        .instructions("Each tool is an agent of this Aryabhatta workspace: call it with the message for the agent"
            + " as 'input'; it answers with the agent's reply.")
        .capabilities(ServerCapabilities.builder().tools(false).build())
        .jsonMapper(JSON)
        .jsonSchemaValidator(SCHEMA_VALIDATOR)
        .validateToolInputs(true)
        // The tool call runs on this request's own (virtual) thread, not on a shared pool.
        .immediateExecution(true)
        .requestTimeout(tools.maxWait().plus(ANSWER_MARGIN))
        .tools(agentTools)
        .build();
    transport.service(ctx.req(), ctx.res());
  }
}
