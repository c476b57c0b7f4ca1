package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.http.OpenAiErrors;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunOutcomeText;

/**
 * Why a run gave no chat completion, told as an OpenAI error. The messages point to the platform
 * API, where the run can be inspected and, when it waits for a person, continued.
 */
final class RunOutcomes {
  private RunOutcomes() {}

  /** The error for a run that did not complete: failed, cancelled, waiting for a person, or still going. */
  static OpenAiErrors.Error errorOf(Run run, long waitedSeconds) {
    String where = RunOutcomeText.where(run.id());
    return switch (run.status()) {
      case FAILED -> failed(run, where);
      case CANCELLED -> new OpenAiErrors.Error(409, "the run was cancelled" + where, "invalid_request_error", null,
          "run_cancelled");
      case REQUIRES_ACTION -> new OpenAiErrors.Error(409, waitingFor(run.requiredAction(), run.id()),
          "invalid_request_error", null, "run_requires_action");
      case QUEUED, RUNNING, WAITING, COMPLETED -> new OpenAiErrors.Error(504, "the run did not finish within " + waitedSeconds + " s; it goes on"
          + where, "server_error", null, "run_timeout");
    };
  }

  /** A model provider's failure is a bad gateway; anything else about the run is the server's. */
  private static OpenAiErrors.Error failed(Run run, String where) {
    String code = RunOutcomeText.failureCode(run);
    int status = code.startsWith("model_") ? 502 : 500;
    return new OpenAiErrors.Error(status, "the agent's run failed: " + RunOutcomeText.failureMessage(run) + where,
        "server_error", null, code);
  }

  private static String waitingFor(JsonNode action, String runId) {
    return "the agent is waiting for " + RunOutcomeText.awaited(action, runId)
        + " (platform API; the OpenAI-compatible API cannot provide it). "
        + "The run's answer will then be at GET /api/runs/" + runId;
  }
}
