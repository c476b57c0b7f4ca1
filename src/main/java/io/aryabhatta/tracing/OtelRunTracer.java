package io.aryabhatta.tracing;

import static io.aryabhatta.tracing.GenAiAttributes.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.ChatResult;
import io.aryabhatta.tools.ToolOutcome;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Run spans on the OpenTelemetry SDK. Every span is parented explicitly (never through the
 * thread's current context): a run's first execution may start on the thread creating it and go
 * on on the run's own.
 */
final class OtelRunTracer implements RunTracer {
  private static final String TRACEPARENT = "traceparent";
  private static final TextMapGetter<Map<String, String>> FROM_MAP = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private final OpenTelemetrySdk sdk;
  private final Tracer tracer;
  /** Null when content is off: nothing then reads a prompt, an argument or a result. */
  private final ContentMessages content;

  OtelRunTracer(OpenTelemetrySdk sdk, boolean content) {
    this.sdk = sdk;
    this.tracer = sdk.getTracer("io.aryabhatta");
    this.content = content ? new ContentMessages(Json.mapper()) : null;
  }

  @Override
  public RunSpan startRun(RunIdentity run, String journaledContext) {
    SpanContext journaled = journaled(journaledContext);
    // No name when the agent's definition could not be read (the run then fails at once).
    String name = run.agentName() == null ? "invoke_agent" : "invoke_agent " + run.agentName();
    SpanBuilder builder = tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL)
        .setAttribute(OPERATION, "invoke_agent")
        .setAttribute(AGENT_NAME, run.agentName())
        .setAttribute(AGENT_ID, run.agentId())
        .setAttribute(AGENT_VERSION, (long) run.agentVersion())
        .setAttribute(CONVERSATION_ID, run.conversationId())
        .setAttribute(RUN_ID, run.runId());
    if (journaled != null) {
      builder.setParent(Context.root().with(Span.wrap(journaled))).setAttribute(RUN_RESUMED, true);
    } else {
      builder.setNoParent();
    }
    return new Execution(builder.startSpan(), run.runId());
  }

  /** The span context a traceparent names, or null (none journaled, or unreadable). */
  private static SpanContext journaled(String traceparent) {
    if (traceparent == null) {
      return null;
    }
    Context extracted = W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), Map.of(TRACEPARENT, traceparent), FROM_MAP);
    SpanContext context = Span.fromContext(extracted).getSpanContext();
    return context.isValid() ? context : null;
  }

  private static String traceparent(Span span) {
    Map<String, String> carrier = new HashMap<>();
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), carrier, Map::put);
    return carrier.get(TRACEPARENT);
  }

  /** At most 5 s: a collector that is down must not hold up the process's stop for the exporter's retries. */
  @Override
  public void close() {
    sdk.shutdown().join(5, TimeUnit.SECONDS);
  }

  private final class Execution implements RunSpan {
    private final Span span;
    private final Context parent;
    private final String runId;

    Execution(Span span, String runId) {
      this.span = span;
      this.parent = Context.root().with(span);
      this.runId = runId;
    }

    @Override
    public String traceContext() {
      return traceparent(span);
    }

    @Override
    public ModelCallSpan modelCall(int step, String provider, String model, String baseUrl, JsonNode request) {
      SpanBuilder builder = tracer.spanBuilder("chat " + model).setParent(parent).setSpanKind(SpanKind.CLIENT)
          .setAttribute(OPERATION, "chat")
          .setAttribute(PROVIDER, provider)
          .setAttribute(REQUEST_MODEL, model)
          .setAttribute(RUN_ID, runId)
          .setAttribute(STEP_INDEX, (long) step);
      server(builder, baseUrl);
      if (request != null) {
        JsonNode temperature = request.path("temperature");
        if (temperature.isNumber()) {
          builder.setAttribute(REQUEST_TEMPERATURE, temperature.asDouble());
        }
        JsonNode topP = request.path("top_p");
        if (topP.isNumber()) {
          builder.setAttribute(REQUEST_TOP_P, topP.asDouble());
        }
        JsonNode maxTokens = request.has("max_completion_tokens") ? request.path("max_completion_tokens")
            : request.path("max_tokens");
        if (maxTokens.isNumber()) {
          builder.setAttribute(REQUEST_MAX_TOKENS, maxTokens.asLong());
        }
        if (content != null) {
          builder.setAttribute(INPUT_MESSAGES, content.input(request));
        }
      }
      return new ModelCall(builder.startSpan());
    }

    @Override
    public ToolCallSpan toolCall(int step, String tool, String kind, String callId, String arguments) {
      SpanBuilder builder = tracer.spanBuilder("execute_tool " + tool).setParent(parent)
          .setSpanKind(SpanKind.INTERNAL)
          .setAttribute(OPERATION, "execute_tool")
          .setAttribute(TOOL_NAME, tool)
          .setAttribute(TOOL_CALL_ID, callId)
          .setAttribute(TOOL_KIND, kind)
          .setAttribute(RUN_ID, runId)
          .setAttribute(STEP_INDEX, (long) step);
      if (content != null && arguments != null) {
        builder.setAttribute(TOOL_ARGUMENTS, arguments);
      }
      return new ToolCall(builder.startSpan());
    }

    @Override
    public void paused(String actionType) {
      span.addEvent("run.requires_action", Attributes.of(ACTION_TYPE, actionType));
    }

    @Override
    public void failed(String errorType, String message) {
      fail(span, errorType, message);
    }

    @Override
    public void stopped(String reason) {
      span.setAttribute(RUN_STOPPED, reason);
    }

    @Override
    public void end() {
      span.end();
    }
  }

  private final class ModelCall implements ModelCallSpan {
    private final Span span;

    ModelCall(Span span) {
      this.span = span;
    }

    @Override
    public void answered(ChatResult result) {
      if (result.usage() != null) {
        span.setAttribute(INPUT_TOKENS, (long) result.usage().promptTokens());
        span.setAttribute(OUTPUT_TOKENS, (long) result.usage().completionTokens());
      }
      if (result.finishReason() != null) {
        span.setAttribute(FINISH_REASONS, List.of(result.finishReason()));
      }
      // A JSON body, or for a stream its chunks: the first one names the response too.
      JsonNode response = result.response() != null && result.response().isArray() ? result.response().path(0)
          : result.response();
      if (response != null && response.path("model").isTextual()) {
        span.setAttribute(RESPONSE_MODEL, response.path("model").asText());
      }
      if (response != null && response.path("id").isTextual()) {
        span.setAttribute(RESPONSE_ID, response.path("id").asText());
      }
      span.setAttribute(ATTEMPTS, (long) result.attempts().size());
      if (content != null) {
        span.setAttribute(OUTPUT_MESSAGES, content.output(result));
      }
      span.end();
    }

    @Override
    public void failed(String errorType, String message) {
      fail(span, errorType, message);
      span.end();
    }

    @Override
    public void cancelled() {
      span.setAttribute(RUN_STOPPED, "cancelled");
      span.end();
    }
  }

  private final class ToolCall implements ToolCallSpan {
    private final Span span;

    ToolCall(Span span) {
      this.span = span;
    }

    @Override
    public void finished(ToolOutcome outcome, int attempts) {
      span.setAttribute(ATTEMPTS, (long) attempts);
      if (outcome.statusCode() != null) {
        span.setAttribute(HTTP_STATUS, (long) outcome.statusCode());
      }
      if (content != null && outcome.result() != null) {
        span.setAttribute(TOOL_RESULT, outcome.result());
      }
      if (!outcome.ok()) {
        fail(span, outcome.outcomeUnknown() ? "outcome_unknown" : "tool_error", outcome.result());
      }
      span.end();
    }

    @Override
    public void stopped() {
      span.setAttribute(RUN_STOPPED, "shutdown");
      span.end();
    }
  }

  /** Error status; the description (a message that may quote content or a provider's echo of a key) only with content on. */
  private void fail(Span span, String errorType, String message) {
    span.setAttribute(ERROR_TYPE, errorType);
    span.setStatus(StatusCode.ERROR, content != null && message != null ? message : errorType);
  }

  private static void server(SpanBuilder builder, String baseUrl) {
    if (baseUrl == null) {
      return;
    }
    try {
      URI uri = URI.create(baseUrl);
      if (uri.getHost() != null) {
        builder.setAttribute(SERVER_ADDRESS, uri.getHost());
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
        builder.setAttribute(SERVER_PORT, (long) port);
      }
    } catch (IllegalArgumentException e) {
      // No address then: the URL was accepted when the provider was defined, but is not a URI.
    }
  }
}
