package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One journal row: a model call or a tool call.
 *
 * <p>Tool-call statuses: {@code pending} (asked for by the model, committed before anything runs),
 * {@code awaiting_approval}, {@code approved}, {@code awaiting_output} (client tools),
 * {@code started} (committed just before execution), then {@code completed}, {@code failed},
 * {@code rejected} or {@code cancelled}. {@code unknown_outcome}: the call was executed, or may have
 * been, and nobody knows with what result (its process died during a non-idempotent execution, or
 * the request may have reached the target before it failed); the run waits for a person while the
 * step has no {@code endedAt}, and a step that ended so (the person chose not to execute it again,
 * or the run was cancelled or failed first) keeps that status: the platform never calls it "not
 * executed".
 *
 * @param executedAs what the tool was when its execution started (kind, idempotent, and for an http
 *     tool its method and URL template): whether it may run again after a crash is decided from
 *     this, not from the tool as it is by then
 * @param copiedFromRunId set on a forked run's steps copied from the run it was forked from
 */
public record Step(String runId, int index, String type, String status, Instant startedAt, Instant endedAt,
    Long durationMs, JsonNode request, JsonNode response, JsonNode usage, JsonNode attempts, String toolCallId,
    String name, String arguments, String result, String error, String idempotencyKey, String decisionReason,
    JsonNode executedAs, String copiedFromRunId) {

  /**
   * A step as the agent loop tracks it: what it needs to decide (type, status, the call) without
   * the recorded request, response, timings and attempts.
   */
  static Step outline(String runId, int index, String type, String status, String toolCallId, String name,
      String arguments, String idempotencyKey) {
    return new Step(runId, index, type, status, null, null, null, null, null, null, null, toolCallId, name, arguments,
        null, null, idempotencyKey, null, null, null);
  }

  Step withStatus(String newStatus) {
    return new Step(runId, index, type, newStatus, startedAt, endedAt, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, executedAs, copiedFromRunId);
  }

  /** The outline of a step that has ended at {@code at}, as recorded. */
  Step endedAt(Instant at) {
    return new Step(runId, index, type, status, startedAt, at, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, executedAs, copiedFromRunId);
  }

  /** The outline of a tool call, with what the tool was when its execution started. */
  Step withExecutedAs(JsonNode tool) {
    return new Step(runId, index, type, status, startedAt, endedAt, durationMs, request, response, usage, attempts,
        toolCallId, name, arguments, result, error, idempotencyKey, decisionReason, tool, copiedFromRunId);
  }

  public boolean isToolCall() {
    return type.equals("tool_call");
  }

  public boolean finished() {
    return switch (status) {
      case "completed", "failed", "rejected", "cancelled" -> true;
      case "unknown_outcome" -> endedAt != null;
      default -> false;
    };
  }
}
