package io.aryabhatta.mcpserver;

import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunOutcomeText;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.Map;

/**
 * A run as the result of a tool call: the agent's output as text when it completed; otherwise a
 * tool error that names the run and says why there is no output. Every result carries the run id
 * in its {@code _meta}, so a client can look the run up in the platform API.
 */
final class RunToolResults {
  private RunToolResults() {}

  static CallToolResult of(Run run, Duration waited) {
    return switch (run.status()) {
      case COMPLETED -> result(run, run.output() == null ? "" : run.output(), false);
      case FAILED -> error(run, "The agent's run failed: " + RunOutcomeText.failureMessage(run)
          + " [" + RunOutcomeText.failureCode(run) + "]" + RunOutcomeText.where(run.id()));
      case CANCELLED -> error(run, "The agent's run was cancelled" + RunOutcomeText.where(run.id()));
      case REQUIRES_ACTION -> error(run, "The agent's run " + run.id() + " is waiting for "
          + RunOutcomeText.awaited(run.requiredAction(), run.id())
          + " (platform API). The run's answer will then be at GET /api/runs/" + run.id());
      case QUEUED, RUNNING, WAITING -> error(run, "The agent's run did not finish within " + waited.toSeconds()
          + " s; it goes on" + RunOutcomeText.where(run.id()));
    };
  }

  /** A run started whose end this call could not wait for (the server is stopping, or the database failed). */
  static CallToolResult notFollowed(Run run) {
    return error(run, "The agent's run started, but this call could not wait for it; it goes on"
        + RunOutcomeText.where(run.id()));
  }

  /** A call refused before any run started. */
  static CallToolResult refused(String message) {
    return CallToolResult.builder().addTextContent(message).isError(true).build();
  }

  private static CallToolResult error(Run run, String message) {
    return result(run, message, true);
  }

  private static CallToolResult result(Run run, String text, boolean isError) {
    return CallToolResult.builder().addTextContent(text).isError(isError).meta(Map.of("run_id", run.id())).build();
  }
}
