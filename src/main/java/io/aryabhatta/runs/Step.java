package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One journal row: a model call or a tool call.
 *
 * <p>Its {@link StepStatus} says where it is; {@link StepStatus#TRANSITIONS} lists how it may change.
 *
 * @param executedAs what the tool was when its execution started (kind, idempotent, and for an http
 *     tool its method and URL template): whether it may run again after a crash is decided from
 *     this, not from the tool as it is by then
 * @param copiedFromRunId set on a forked run's steps copied from the run it was forked from
 */
public record Step(String runId, int index, String type, StepStatus status, Instant startedAt, Instant endedAt,
    Long durationMs, JsonNode request, JsonNode response, JsonNode usage, JsonNode attempts, String toolCallId,
    String name, String arguments, String result, String error, String idempotencyKey, String decisionReason,
    JsonNode executedAs, String copiedFromRunId) {

  /**
   * A step as the agent loop tracks it: what it needs to decide (type, status, the call) without
   * the recorded request, response, timings and attempts.
   */
  public static Step outline(String runId, int index, String type, StepStatus status, String toolCallId, String name,
      String arguments, String idempotencyKey) {
    return new Step(runId, index, type, status, null, null, null, null, null, null, null, toolCallId, name, arguments,
        null, null, idempotencyKey, null, null, null);
  }

  /** The outline after {@code change}, which the transition table must allow from this step's status. */
  public Step after(StepStatus.Change change) {
    return withStatus(status.after(change));
  }

  private Step withStatus(StepStatus newStatus) {
    return new Step(runId, index, type, newStatus, startedAt, endedAt, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, executedAs, copiedFromRunId);
  }

  /** The outline of a step that has ended at {@code at}, as recorded. */
  public Step endedAt(Instant at) {
    return new Step(runId, index, type, status, startedAt, at, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, executedAs, copiedFromRunId);
  }

  /** The outline of a tool call, with what the tool was when its execution started. */
  public Step withExecutedAs(JsonNode tool) {
    return new Step(runId, index, type, status, startedAt, endedAt, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, tool, copiedFromRunId);
  }

  public boolean isToolCall() {
    return type.equals("tool_call");
  }

  public boolean finished() {
    return switch (status) {
      case COMPLETED, FAILED, REJECTED, CANCELLED -> true;
      case UNKNOWN_OUTCOME -> endedAt != null;
      case PENDING, AWAITING_APPROVAL, APPROVED, AWAITING_OUTPUT, AWAITING_CHILD, STARTED -> false;
    };
  }
}
