package io.aryabhatta.tracing;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.tools.ToolOutcome;

/** Tracing off: one constant that does nothing, so an untraced step costs a few calls that return at once. */
enum NoTracing implements RunTracer, RunSpan, ModelCallSpan, ToolCallSpan {
  INSTANCE;

  @Override
  public RunSpan startRun(RunIdentity run, String journaledContext) {
    return this;
  }

  @Override
  public void close() {}

  @Override
  public String traceContext() {
    return null;
  }

  @Override
  public ModelCallSpan modelCall(int step, String provider, String model, String baseUrl, JsonNode request) {
    return this;
  }

  @Override
  public ToolCallSpan toolCall(int step, String tool, String kind, String callId, String arguments) {
    return this;
  }

  @Override
  public void paused(String actionType) {}

  @Override
  public void failed(String errorType, String message) {}

  @Override
  public void stopped(String reason) {}

  @Override
  public void end() {}

  @Override
  public void answered(ChatResult result) {}

  @Override
  public void cancelled() {}

  @Override
  public void finished(ToolOutcome outcome, int attempts) {}

  @Override
  public void stopped() {}
}
