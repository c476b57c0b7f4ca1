package io.aryabhatta.embed;

import com.fasterxml.jackson.databind.JsonNode;

/** The body of a {@link JavaTool} that reads its arguments as JSON. */
@FunctionalInterface
public interface ToolFunction {
  /**
   * Executes one tool call.
   *
   * @param arguments a JSON object, already validated against the tool's parameters schema
   * @param call the call's workspace and idempotency key
   * @return the text the model reads as the tool's result (null counts as empty)
   * @throws ToolError to report a failure the model should read; any other exception is reported
   *     to the model as a failure without its message
   */
  String apply(JsonNode arguments, ToolCallContext call) throws Exception;
}
