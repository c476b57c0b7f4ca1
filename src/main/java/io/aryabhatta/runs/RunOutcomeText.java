package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Why a run gave no answer, in words that point to the platform API, where the run can be
 * inspected and, when it waits for a person, continued. The APIs that answer with a run's output
 * (the OpenAI-compatible API, the MCP server) tell their clients this when there is no output.
 */
public final class RunOutcomeText {
  private RunOutcomeText() {}

  /** {@code " (run <id>; see GET /api/runs/<id>)"}, to follow a sentence about the run. */
  public static String where(String runId) {
    return " (run " + runId + "; see GET /api/runs/" + runId + ")";
  }

  /** The failed run's error code, such as {@code model_unauthorized}. */
  public static String failureCode(Run run) {
    JsonNode error = run.error();
    return error == null ? "run_failed" : error.path("code").asText("run_failed");
  }

  public static String failureMessage(Run run) {
    JsonNode error = run.error();
    return error == null ? "the run failed" : error.path("message").asText("the run failed");
  }

  /**
   * What a run that requires action waits for, and where to provide it: e.g. {@code approval of
   * tool calls [calculator]: POST /api/runs/<id>/approvals}.
   */
  public static String awaited(JsonNode requiredAction, String runId) {
    String type = requiredAction == null ? "" : requiredAction.path("type").asText();
    List<String> names = new ArrayList<>();
    if (requiredAction != null) {
      requiredAction.path("tool_calls").forEach(c -> names.add(c.path("name").asText()));
    }
    return switch (type) {
      case "approve_tool_calls" -> "approval of tool calls " + names + ": POST /api/runs/" + runId + "/approvals";
      case "submit_tool_outputs" -> "outputs of client tools " + names + ": POST /api/runs/" + runId + "/tool_outputs";
      case "child_requires_action" -> "a person, on the child runs of its calls of agents " + names + ": "
          + childRuns(requiredAction) + " (see GET /api/runs/<child>)";
      default -> "a decision on tool calls whose outcome is unknown " + names + ": POST /api/runs/" + runId
          + "/approvals or /tool_outputs";
    };
  }

  private static List<String> childRuns(JsonNode requiredAction) {
    List<String> ids = new ArrayList<>();
    requiredAction.path("children").forEach(c -> ids.add(c.path("run_id").asText()));
    return ids;
  }
}
