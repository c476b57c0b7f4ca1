package io.aryabhatta.tools;

/**
 * The result of one tool execution, as recorded in the journal and sent to the model.
 *
 * @param ok false for a tool error (non-2xx, timeout, blocked address, bad arguments…)
 * @param result the text given to the model: the result, or the error message
 * @param statusCode the HTTP status for HTTP tools, else null
 * @param durationMs time spent executing
 * @param transientFailure an error that may go away on its own (timeout, connection refused, 408,
 *     429, 5xx): an {@code idempotent} tool may be retried
 */
public record ToolOutcome(boolean ok, String result, Integer statusCode, long durationMs, boolean transientFailure) {
  public ToolOutcome(boolean ok, String result, Integer statusCode, long durationMs) {
    this(ok, result, statusCode, durationMs, false);
  }

  public static ToolOutcome success(String result, Integer statusCode, long durationMs) {
    return new ToolOutcome(true, result, statusCode, durationMs);
  }

  public static ToolOutcome error(String message, Integer statusCode, long durationMs) {
    return new ToolOutcome(false, message, statusCode, durationMs);
  }

  /** An error worth retrying for an idempotent tool. */
  public static ToolOutcome transientError(String message, Integer statusCode, long durationMs) {
    return new ToolOutcome(false, message, statusCode, durationMs, true);
  }

  public ToolOutcome withDuration(long durationMs) {
    return new ToolOutcome(ok, result, statusCode, durationMs, transientFailure);
  }
}
