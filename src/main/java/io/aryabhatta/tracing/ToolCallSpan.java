package io.aryabhatta.tracing;

import io.aryabhatta.tools.ToolOutcome;

/** One tool call's execution (all its attempts), as a span; each method ends it. */
public interface ToolCallSpan {
  ToolCallSpan OFF = NoTracing.INSTANCE;

  void finished(ToolOutcome outcome, int attempts);

  /** The process stops before the call has an outcome: the node that resumes the run executes it again. */
  void stopped();
}
