package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * A built-in tool supplied by the application that embeds the engine: listed, resolved and
 * validated like the shipped built-ins, executed by calling {@link #handler} in this process.
 *
 * @param parameters JSON Schema of the arguments (an object schema)
 * @param idempotent whether a call interrupted by a crash may simply be executed again
 * @param timeout the longest a call may take: one that has not returned by then is given up (its
 *     outcome unknown) and its thread interrupted, so a hung function cannot hold a run forever
 */
public record InProcessTool(String name, String description, JsonNode parameters, boolean idempotent,
    boolean requiresApproval, Duration timeout, Handler handler) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** Executes one call; every failure is an error outcome, so the model can react to it. */
  @FunctionalInterface
  public interface Handler {
    /**
     * @param arguments a JSON object, already validated against {@link #parameters}
     * @param context the call's workspace and its idempotency key
     */
    ToolOutcome call(JsonNode arguments, ToolContext context);
  }
}
