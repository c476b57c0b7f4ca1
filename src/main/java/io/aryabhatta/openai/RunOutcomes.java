package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.http.OpenAiErrors;
import io.aryabhatta.runs.Run;
import java.util.ArrayList;
import java.util.List;

/**
 * Why a run gave no chat completion, told as an OpenAI error. The messages point to the platform
 * API, where the run can be inspected and, when it waits for a person, continued.
 */
final class RunOutcomes {
  private RunOutcomes() {}

  /** The error for a run that did not complete: failed, cancelled, waiting for a person, or still going. */
  static OpenAiErrors.Error errorOf(Run run, long waitedSeconds) {
    String where = " (run " + run.id() + "; see GET /api/runs/" + run.id() + ")";
    return switch (run.status()) {
      case FAILED -> failed(run, where);
      case CANCELLED -> new OpenAiErrors.Error(409, "the run was cancelled" + where, "invalid_request_error", null,
          "run_cancelled");
      case REQUIRES_ACTION -> new OpenAiErrors.Error(409, waitingFor(run.requiredAction(), run.id()),
          "invalid_request_error", null, "run_requires_action");
      case QUEUED, RUNNING, COMPLETED -> new OpenAiErrors.Error(504, "the run did not finish within " + waitedSeconds + " s; it goes on"
          + where, "server_error", null, "run_timeout");
    };
  }

  /** A model provider's failure is a bad gateway; anything else about the run is the server's. */
  private static OpenAiErrors.Error failed(Run run, String where) {
    JsonNode error = run.error();
    String code = error == null ? "run_failed" : error.path("code").asText("run_failed");
    String message = error == null ? "the run failed" : error.path("message").asText("the run failed");
    int status = code.startsWith("model_") ? 502 : 500;
    return new OpenAiErrors.Error(status, "the agent's run failed: " + message + where, "server_error", null, code);
  }

  private static String waitingFor(JsonNode action, String runId) {
    String type = action == null ? "" : action.path("type").asText();
    List<String> names = new ArrayList<>();
    if (action != null) {
      action.path("tool_calls").forEach(c -> names.add(c.path("name").asText()));
    }
    String what = switch (type) {
      case "approve_tool_calls" -> "approval of tool calls " + names + ": POST /api/runs/" + runId + "/approvals";
      case "submit_tool_outputs" -> "outputs of client tools " + names + ": POST /api/runs/" + runId + "/tool_outputs";
      default -> "a decision on tool calls whose outcome is unknown " + names + ": POST /api/runs/" + runId
          + "/approvals or /tool_outputs";
    };
    return "the agent is waiting for " + what + " (platform API; the OpenAI-compatible API cannot provide it). "
        + "The run's answer will then be at GET /api/runs/" + runId;
  }
}
