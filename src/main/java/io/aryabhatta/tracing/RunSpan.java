package io.aryabhatta.tracing;

import com.fasterxml.jackson.databind.JsonNode;

/** One execution of a run, as a span: the parent of the model and tool calls made in it. */
public interface RunSpan {
  RunSpan OFF = NoTracing.INSTANCE;

  /** The trace context to journal with the run (a W3C traceparent), or null when not tracing. */
  String traceContext();

  /**
   * A model call at step {@code step} starts.
   *
   * @param baseUrl the provider's base URL, for the server's address (never its key)
   * @param request the request body as sent; its messages go into the span only with content on
   */
  ModelCallSpan modelCall(int step, String provider, String model, String baseUrl, JsonNode request);

  /** A tool call at step {@code step} starts executing; its arguments go into the span only with content on. */
  ToolCallSpan toolCall(int step, String tool, String kind, String callId, String arguments);

  /** The run waits for a person ({@code actionType}: what it asks for). */
  void paused(String actionType);

  /** The run failed ({@code errorType}: its error code); the message goes into the span only with content on. */
  void failed(String errorType, String message);

  /** This execution stopped without the run ending or failing, e.g. its lease was lost. */
  void stopped(String reason);

  void end();
}
