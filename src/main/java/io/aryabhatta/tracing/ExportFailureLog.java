package io.aryabhatta.tracing;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the first failed export, and the first success after failures, rather than every batch: a
 * collector that is down must not flood the log. Exports run on the SDK's own thread, so a failure
 * never reaches a run.
 */
final class ExportFailureLog implements SpanExporter {
  private static final Logger log = LoggerFactory.getLogger(ExportFailureLog.class);

  private final SpanExporter exporter;
  private final AtomicBoolean failing = new AtomicBoolean();

  ExportFailureLog(SpanExporter exporter) {
    this.exporter = exporter;
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    CompletableResultCode result = exporter.export(spans);
    result.whenComplete(() -> {
      if (!result.isSuccess() && failing.compareAndSet(false, true)) {
        Throwable why = result.getFailureThrowable();
        log.warn("Exporting run traces failed ({}); spans are dropped until the collector answers, which is logged",
            why == null ? "no reason given" : why.getMessage());
      } else if (result.isSuccess() && failing.compareAndSet(true, false)) {
        log.info("Exporting run traces works again");
      }
    });
    return result;
  }

  @Override
  public CompletableResultCode flush() {
    return exporter.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return exporter.shutdown();
  }

  @Override
  public String toString() {
    return exporter.toString();
  }
}
