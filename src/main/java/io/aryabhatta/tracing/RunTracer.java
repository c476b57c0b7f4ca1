package io.aryabhatta.tracing;

/**
 * Where the agent loop reports a run's executions, model calls and tool calls as spans. Built once
 * by {@link RunTracing#start}; {@link #OFF} when no OTLP endpoint is configured, and then every
 * call is a constant return.
 */
public interface RunTracer extends AutoCloseable {
  RunTracer OFF = NoTracing.INSTANCE;

  /**
   * Starts the span of one execution of a run (from when a node takes it until it ends, waits for
   * a person or stops). The first execution starts a new trace; a later one, on any node, is a
   * child of the journaled context of the first, so that the run stays one trace.
   *
   * @param journaledContext the run's journaled trace context, or null if it has none yet
   */
  RunSpan startRun(RunIdentity run, String journaledContext);

  /** Sends the spans not yet exported, then stops. */
  @Override
  void close();

  /** What names a run in its spans. */
  record RunIdentity(String runId, String conversationId, String agentId, String agentName, int agentVersion) {}
}
