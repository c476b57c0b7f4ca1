package io.aryabhatta.mcpserver;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentView;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.Streaming;
import io.aryabhatta.workspaces.Caller;
import io.modelcontextprotocol.server.McpStatelessServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A workspace's agents as MCP tools: one per agent, named after it, taking the user's
 * {@code input} and optional prompt {@code variables}. Calling one runs the agent as an ordinary
 * run of the caller's workspace and waits for it, at most {@code maxWait}.
 */
final class AgentTools {
  private static final Logger log = LoggerFactory.getLogger(AgentTools.class);
  /** What the run API takes as a variable's value. */
  private static final Map<String, Object> VARIABLE_VALUE = Map.of("type", List.of("string", "number", "boolean"));

  private final AgentService agents;
  private final RunService runs;
  private final ObjectMapper mapper;
  private final Duration maxWait;

  /** @param maxWait how long a call waits for its run; after that the call is a tool error naming the run */
  AgentTools(AgentService agents, RunService runs, ObjectMapper mapper, Duration maxWait) {
    this.agents = agents;
    this.runs = runs;
    this.mapper = mapper;
    this.maxWait = maxWait;
  }

  Duration maxWait() {
    return maxWait;
  }

  /** The caller's workspace's live agents, oldest first, each with what calling it does. */
  List<SyncToolSpecification> of(Caller caller) {
    return agents.all(caller.workspaceId()).stream()
        .map(agent -> new SyncToolSpecification(tool(agent), (context, call) -> call(caller, agent, call)))
        .toList();
  }

  private static Tool tool(AgentView agent) {
    String description = agent.description() == null || agent.description().isBlank()
        ? "The Aryabhatta agent '" + agent.name() + "': send it a message as 'input'; it answers with text."
        : agent.description();
    return Tool.builder().name(agent.name()).description(description).inputSchema(inputSchema(agent)).build();
  }

  /** {@code {input: string, variables?: object}}; the variables the agent's prompt uses are named. */
  private static Map<String, Object> inputSchema(AgentView agent) {
    Map<String, Object> variables = new LinkedHashMap<>();
    variables.put("type", "object");
    variables.put("description", "Values for the variables of the agent's system prompt"
        + (agent.variables().isEmpty() ? "" : ": " + String.join(", ", agent.variables())));
    if (!agent.variables().isEmpty()) {
      variables.put("properties", agent.variables().stream().collect(Collectors.toMap(
          name -> name, name -> VARIABLE_VALUE, (a, b) -> a, LinkedHashMap::new)));
    }
    variables.put("additionalProperties", VARIABLE_VALUE);
    return Map.of(
        "type", "object",
        "properties", Map.of(
            "input", Map.of("type", "string", "description", "The message for the agent"),
            "variables", variables),
        "required", List.of("input"));
  }

  private CallToolResult call(Caller caller, AgentView agent, CallToolRequest call) {
    AgentToolArguments arguments;
    try {
      arguments = AgentToolArguments.of(call.arguments());
    } catch (AgentToolArguments.Refused e) {
      return RunToolResults.refused(e.getMessage());
    }
    Run run;
    try {
      run = runs.startRunOfAgent(caller, agent.id(), arguments.input(), arguments.variables(),
          mapper.createObjectNode().put("source", "mcp"), Streaming.WHOLE_ANSWER);
    } catch (DomainException e) {
      return RunToolResults.refused(explained(e));
    } catch (RuntimeException e) {
      // The SDK would answer with the exception's message, which is for the log, not the client.
      log.error("Could not start a run of agent {} for an MCP tool call", agent.id(), e);
      return RunToolResults.refused("the agent's run could not be started; try again shortly");
    }
    try {
      return RunToolResults.of(runs.awaitSettled(caller, run, maxWait), maxWait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return RunToolResults.notFollowed(run);
    } catch (RuntimeException e) {
      log.error("Could not follow run {} for an MCP tool call", run.id(), e);
      return RunToolResults.notFollowed(run);
    }
  }

  /** A refusal's detail and the fields at fault, as one line for the calling model. */
  private static String explained(DomainException e) {
    List<FieldError> fields = e.errors();
    return fields.isEmpty() ? e.detail() : e.detail() + ": " + fields.stream()
        .map(f -> f.field() + " " + f.message()).collect(Collectors.joining("; "));
  }
}
