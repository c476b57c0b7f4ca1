package io.aryabhatta.embed;

/**
 * The body of a {@link JavaTool} that takes its arguments as a Java object (typically a record;
 * JSON property names are the snake_case form of its component names).
 *
 * @param <A> the arguments type
 */
@FunctionalInterface
public interface TypedToolFunction<A> {
  /**
   * Executes one tool call.
   *
   * @param arguments the validated arguments, converted to {@code A}
   * @param call the call's workspace and idempotency key
   * @return the result: a String is given to the model as it is, anything else as JSON (snake_case)
   * @throws ToolError to report a failure the model should read; any other exception is reported
   *     to the model as a failure without its message
   */
  Object apply(A arguments, ToolCallContext call) throws Exception;
}
