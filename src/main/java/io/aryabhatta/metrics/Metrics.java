package io.aryabhatta.metrics;

import io.aryabhatta.model.Usage;
import io.aryabhatta.engine.RunObserver;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The process's metrics, rendered in Prometheus text format at {@code /metrics}. Label values are
 * bounded: routes are path templates, never raw paths.
 */
public final class Metrics implements RunObserver {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  public Metrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public void httpRequest(String method, String route, int status, Duration duration) {
    Timer.builder("aryabhatta_http_requests")
        .description("HTTP requests by route template and status")
        .tag("method", method)
        .tag("route", route)
        .tag("status", Integer.toString(status))
        .register(registry)
        .record(duration);
  }

  /** A model call's latency and tokens, by provider, model and outcome (ok or an error kind). */
  @Override
  public void modelCall(String provider, String model, String outcome, Duration duration, Usage usage) {
    Timer.builder("aryabhatta_model_call")
        .description("Model call latency, all attempts included")
        .tag("provider", provider).tag("model", model).tag("outcome", outcome)
        .register(registry).record(duration);
    step("llm_call", duration);
    if (usage != null) {
      registry.counter("aryabhatta_model_tokens", "provider", provider, "model", model, "kind", "prompt")
          .increment(usage.promptTokens());
      registry.counter("aryabhatta_model_tokens", "provider", provider, "model", model, "kind", "completion")
          .increment(usage.completionTokens());
    }
  }

  /** A tool execution's duration (retries included) by tool and outcome. */
  @Override
  public void toolCall(String tool, boolean ok, Duration duration) {
    Timer.builder("aryabhatta_tool_call")
        .description("Tool execution time")
        .tag("tool", tool).tag("outcome", ok ? "ok" : "error")
        .register(registry).record(duration);
    step("tool_call", duration);
  }

  /** A journal step's duration by type (llm_call or tool_call). */
  private void step(String type, Duration duration) {
    Timer.builder("aryabhatta_step").description("Journal step duration").tag("type", type)
        .register(registry).record(duration);
  }

  public String scrape() {
    return registry.scrape();
  }
}
