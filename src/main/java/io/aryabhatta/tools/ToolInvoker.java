package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the agent loop needs of its tools: one execution of a call, and its outcome (never an
 * exception). {@link ToolExecutor} is the real one; tests of the loop give it scripted outcomes.
 */
@FunctionalInterface
public interface ToolInvoker {
  ToolOutcome execute(ToolDefinition tool, JsonNode arguments, ToolContext context);
}
