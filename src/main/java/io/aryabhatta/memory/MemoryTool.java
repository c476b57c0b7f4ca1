package io.aryabhatta.memory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.MemoryBlockSpec;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.json.Json;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolInvoker;
import io.aryabhatta.tools.ToolOutcome;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code memory_append} and {@code memory_replace} tools of an agent with memory blocks, in a
 * run whose conversation has a memory key. They are journaled tool steps like any other. Each
 * definition names what it changes in its id ({@code memory:<agent>:<version>:<run>:<memory
 * key>}), so the call executes against that memory whichever node runs it; they are idempotent
 * because a change is recorded with the call's idempotency key.
 */
public final class MemoryTool {
  public static final String KIND = "memory";

  private MemoryTool() {}

  /** The tools with the memory tools last, when the agent keeps memory and the run has a memory key. */
  public static Map<String, ToolDefinition> withMemory(Map<String, ToolDefinition> tools, AgentVersion agent,
      String runId, String memoryKey, ObjectMapper mapper) {
    if (memoryKey == null || agent.memoryBlocks().isEmpty()) {
      return tools;
    }
    String id = KIND + ":" + agent.agentId() + ":" + agent.version() + ":" + runId + ":" + memoryKey;
    Map<String, ToolDefinition> all = new LinkedHashMap<>(tools);
    ObjectNode append = schema(agent, mapper);
    append.with("properties").putObject("text").put("type", "string").put("description", "what to add, on a new line");
    append.withArray("required").add("text");
    all.put(AgentService.MEMORY_APPEND_TOOL, new ToolDefinition(id, null, AgentService.MEMORY_APPEND_TOOL, KIND,
        "Add a line to one of your memory blocks (shown in your instructions as <memory_block>), to remember "
            + "something about this user in later conversations.", append, null, true, false));
    ObjectNode replace = schema(agent, mapper);
    replace.with("properties").putObject("old").put("type", "string")
        .put("description", "the exact text to replace, occurring once in the block");
    replace.with("properties").putObject("new").put("type", "string").put("description", "its replacement (may be empty)");
    replace.withArray("required").add("old").add("new");
    all.put(AgentService.MEMORY_REPLACE_TOOL, new ToolDefinition(id, null, AgentService.MEMORY_REPLACE_TOOL, KIND,
        "Replace text in one of your memory blocks: to correct or remove what you remembered.", replace, null,
        true, false));
    return all;
  }

  private static ObjectNode schema(AgentVersion agent, ObjectMapper mapper) {
    ObjectNode schema = mapper.createObjectNode();
    schema.put("type", "object");
    ArrayNode labels = schema.putObject("properties").putObject("label").put("type", "string")
        .put("description", "the block's label").putArray("enum");
    agent.memoryBlocks().stream().map(MemoryBlockSpec::label).forEach(labels::add);
    schema.putArray("required").add("label");
    schema.put("additionalProperties", false);
    return schema;
  }

  /** Runs memory tool calls, and hands every other call to {@code others}. */
  public static ToolInvoker invoker(MemoryService memory, AgentService agents, ObjectMapper mapper,
      ToolInvoker others) {
    return (tool, arguments, context) -> KIND.equals(tool.kind())
        ? change(memory, agents, mapper, tool, arguments, context)
        : others.execute(tool, arguments, context);
  }

  private static ToolOutcome change(MemoryService memory, AgentService agents, ObjectMapper mapper,
      ToolDefinition tool, JsonNode arguments, ToolContext context) {
    String[] scope = tool.id().split(":", 5);
    if (scope.length != 5) {
      return ToolOutcome.error("the memory tool's definition is not readable", null, 0);
    }
    try {
      AgentVersion agent = agents.version(context.workspaceId(), scope[1], Integer.parseInt(scope[2]));
      String label = arguments.path("label").asText();
      MemoryService.Changed changed = tool.name().equals(AgentService.MEMORY_APPEND_TOOL)
          ? memory.append(context.workspaceId(), agent, scope[4], label, arguments.path("text").asText(), scope[3],
              context.idempotencyKey())
          : memory.replace(context.workspaceId(), agent, scope[4], label, arguments.path("old").asText(),
              arguments.path("new").asText(), scope[3], context.idempotencyKey());
      ObjectNode result = mapper.createObjectNode();
      result.put("label", changed.label());
      result.put("version", changed.version());
      result.put("value", changed.value());
      return ToolOutcome.success(Json.write(mapper, result), null, 0);
    } catch (MemoryService.Refused e) {
      return ToolOutcome.error(e.getMessage(), null, 0);
    } catch (DomainException e) {
      return ToolOutcome.error(e.getMessage(), null, 0);
    }
  }
}
