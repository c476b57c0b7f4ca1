package io.aryabhatta.engine;

import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.tools.ToolOutcome;

/** What the model reads for a tool call's outcome, and how an executed call's outcome is recorded. */
public final class ToolMessages {
  private ToolMessages() {}

  /** How an executed tool's outcome is recorded: its step's status, and its result or error. */
  record ToolResult(StepStatus.Change change, String result, String error) {
    static ToolResult of(ToolOutcome outcome) {
      return outcome.ok() ? new ToolResult(StepStatus.Change.SUCCEEDED, outcome.result(), null)
          : outcome.outcomeUnknown() ? new ToolResult(StepStatus.Change.OUTCOME_LOST, null, outcome.result())
          : new ToolResult(StepStatus.Change.FAILED, null, outcome.result());
    }

    /** The step's status once its execution (which started it) has this result. */
    StepStatus status() {
      return StepStatus.STARTED.after(change);
    }

    /** The tool message the model reads for it. */
    String message() {
      return toolMessage(status(), result, error);
    }
  }

  /** The tool message the model reads for a call's outcome. */
  static String toolMessage(StepStatus status, String result, String error) {
    return switch (status) {
      case COMPLETED -> result;
      case REJECTED -> "The user rejected this tool call"
          + (error == null || error.isBlank() ? "." : ": " + error);
      case CANCELLED -> error == null || error.isBlank() ? "Not executed: the run was cancelled." : error;
      case UNKNOWN_OUTCOME -> OUTCOME_UNKNOWN + (error == null || error.isBlank() ? "." : " (" + error + ").");
      default -> "Error: " + error;
    };
  }

  /** What the model reads for a call that was executed, or may have been, with no known result. */
  static final String OUTCOME_UNKNOWN =
      "Outcome unknown: this call was started but its result is not known, so it may have been executed";

  /** Why a call of unknown outcome ended so, by how the run ended. */
  static String whyUnknownAtEnd(RunStatus runStatus) {
    return "the run was " + runStatus + " before its outcome was settled";
  }

  /**
   * What the model reads for a call of an agent whose answer its run did not wait for: the child
   * run has worked on it (and what it did is in that run's own journal), so it is not "not executed".
   */
  static String whyChildUnanswered(RunStatus runStatus, String childRunId) {
    String child = childRunId == null ? "the agent's run" : "the agent's run " + childRunId;
    return "No answer: this run ended (" + runStatus + ") while " + child
        + " was working on this call; what that run did until then is in its own journal.";
  }

  /** Why a call of unknown outcome that a person chose not to execute again ended so. */
  public static String whyUnknownAfterRejection(String reason) {
    return "the user chose not to execute it again" + (reason == null || reason.isBlank() ? "" : ": " + reason);
  }
}
