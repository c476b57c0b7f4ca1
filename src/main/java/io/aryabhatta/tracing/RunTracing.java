package io.aryabhatta.tracing;

import io.aryabhatta.config.Config;
import io.aryabhatta.config.ConfigException;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the run tracer from the configuration: the OpenTelemetry SDK when an OTLP endpoint is set, otherwise none. */
public final class RunTracing {
  private static final Logger log = LoggerFactory.getLogger(RunTracing.class);
  /**
   * The exporters' own logger, quietened: they report every failed export (throttled, on the JDK's
   * logging), which {@link ExportFailureLog} reports once instead. Held so that its level stays set.
   */
  private static final java.util.logging.Logger EXPORTER_LOG = java.util.logging.Logger.getLogger("io.opentelemetry.exporter");

  private RunTracing() {}

  /**
   * The tracer of {@code tracing}: {@link RunTracer#OFF} unless it is enabled; then an SDK
   * configured from the {@code OTEL_*} variables (service name {@code aryabhatta} unless
   * {@code OTEL_SERVICE_NAME} says otherwise; traces only).
   *
   * @throws ConfigException when the SDK refuses the variables
   */
  public static RunTracer start(Config.Tracing tracing) {
    if (!tracing.enabled()) {
      return RunTracer.OFF;
    }
    EXPORTER_LOG.setLevel(Level.OFF);
    // The SDK's own default protocol is gRPC; http/protobuf is what every OTLP receiver answers on 4318.
    Map<String, String> properties = new HashMap<>(Map.of(
        "otel.service.name", "aryabhatta",
        "otel.exporter.otlp.protocol", "http/protobuf",
        "otel.traces.exporter", "otlp",
        "otel.metrics.exporter", "none",
        "otel.logs.exporter", "none"));
    tracing.otel().forEach((name, value) -> properties.put(propertyName(name), value));
    OpenTelemetrySdk sdk;
    try {
      sdk = AutoConfiguredOpenTelemetrySdk.builder()
          .addPropertiesSupplier(() -> properties)
          .addSpanExporterCustomizer((exporter, config) -> new ExportFailureLog(exporter))
          .disableShutdownHook()
          .build()
          .getOpenTelemetrySdk();
    } catch (RuntimeException e) {
      throw new ConfigException("OTEL_*", "the OpenTelemetry SDK refused its settings: " + e.getMessage());
    }
    log.info("Tracing runs over OTLP ({}, prompts and tool arguments {})",
        properties.get("otel.exporter.otlp.protocol"),
        tracing.content() ? "included" : "left out");
    return new OtelRunTracer(sdk, tracing.content());
  }

  /** {@code OTEL_EXPORTER_OTLP_ENDPOINT} is the SDK's {@code otel.exporter.otlp.endpoint}. */
  private static String propertyName(String variable) {
    return variable.toLowerCase(Locale.ROOT).replace('_', '.');
  }
}
