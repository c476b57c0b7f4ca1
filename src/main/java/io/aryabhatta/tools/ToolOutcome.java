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
 * @param outcomeUnknown the call failed in a way that leaves unknown whether the target acted on it
 *     (the request may have reached it: a timeout or a broken connection after sending, a 502 or
 *     504 from a gateway, an in-process tool that did not return in time). Always transient: an
 *     idempotent tool is retried with the same key; for any other tool the call's outcome is
 *     unknown, and a person settles it.
 */
public record ToolOutcome(boolean ok, String result, Integer statusCode, long durationMs, boolean transientFailure,
    boolean outcomeUnknown) {
  public ToolOutcome(boolean ok, String result, Integer statusCode, long durationMs) {
    this(ok, result, statusCode, durationMs, false, false);
  }

  public static ToolOutcome success(String result, Integer statusCode, long durationMs) {
    return new ToolOutcome(true, result, statusCode, durationMs);
  }

  /** A failure known to have had no effect (or one that the tool reported itself). */
  public static ToolOutcome error(String message, Integer statusCode, long durationMs) {
    return new ToolOutcome(false, message, statusCode, durationMs);
  }

  /** An error worth retrying for an idempotent tool, known to have had no effect (e.g. a refused connection). */
  public static ToolOutcome transientError(String message, Integer statusCode, long durationMs) {
    return new ToolOutcome(false, message, statusCode, durationMs, true, false);
  }

  /** A failure after which nobody knows whether the call took effect. */
  public static ToolOutcome unknown(String message, Integer statusCode, long durationMs) {
    return new ToolOutcome(false, message, statusCode, durationMs, true, true);
  }

  public ToolOutcome withDuration(long durationMs) {
    return new ToolOutcome(ok, result, statusCode, durationMs, transientFailure, outcomeUnknown);
  }
}
