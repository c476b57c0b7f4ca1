package io.aryabhatta.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP/HTTP trace receiver for tests, as a collector (Jaeger, Tempo, Langfuse, Phoenix)
 * would be: it answers {@code POST /v1/traces}, decodes each protobuf {@code ExportTraceServiceRequest}
 * and keeps its spans.
 */
public final class OtlpReceiver implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();

  /** A span as received: ids in hex (the parent empty for a root span), attribute values as Java values. */
  public record ReceivedSpan(String service, String traceId, String spanId, String parentSpanId, String name,
      Span.SpanKind kind, io.opentelemetry.proto.trace.v1.Status.StatusCode status, String statusMessage,
      Map<String, Object> attributes, List<String> events) {
    public Object attribute(String key) {
      return attributes.get(key);
    }

    public boolean isRoot() {
      return parentSpanId.isEmpty();
    }
  }

  private OtlpReceiver(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static OtlpReceiver start() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
      ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
      OtlpReceiver receiver = new OtlpReceiver(server, executor);
      server.setExecutor(executor);
      server.createContext("/v1/traces", receiver::handle);
      server.start();
      return receiver;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What OTEL_EXPORTER_OTLP_ENDPOINT should be. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  /** Waits (up to 15 s) until the spans received satisfy {@code until}; returns them, or fails saying what came. */
  public List<ReceivedSpan> await(Predicate<List<ReceivedSpan>> until, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      List<ReceivedSpan> now = spans();
      if (until.test(now)) {
        return now;
      }
      AgentSetup.sleep(50);
    }
    throw new AssertionError("never received " + what + "; received: "
        + spans().stream().map(s -> s.name() + " " + s.attributes()).toList());
  }

  /** The spans of one run (every one of them carries its id). */
  public List<ReceivedSpan> ofRun(String runId) {
    return spans().stream().filter(s -> runId.equals(s.attribute("aryabhatta.run.id"))).toList();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("POST")) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      InputStream body = exchange.getRequestBody();
      if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
        body = new GZIPInputStream(body);
      }
      ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body.readAllBytes());
      for (ResourceSpans resourceSpans : request.getResourceSpansList()) {
        String service = String.valueOf(attributes(resourceSpans.getResource()).get("service.name"));
        for (ScopeSpans scope : resourceSpans.getScopeSpansList()) {
          for (Span span : scope.getSpansList()) {
            spans.add(received(service, span));
          }
        }
      }
      byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
      if (answer.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(answer);
        }
      }
    }
  }

  private static ReceivedSpan received(String service, Span span) {
    HexFormat hex = HexFormat.of();
    Map<String, Object> attributes = new LinkedHashMap<>();
    span.getAttributesList().forEach(kv -> attributes.put(kv.getKey(), value(kv.getValue())));
    List<String> events = span.getEventsList().stream().map(e -> e.getName()).toList();
    return new ReceivedSpan(service, hex.formatHex(span.getTraceId().toByteArray()),
        hex.formatHex(span.getSpanId().toByteArray()), hex.formatHex(span.getParentSpanId().toByteArray()),
        span.getName(), span.getKind(), span.getStatus().getCode(), span.getStatus().getMessage(), attributes,
        events);
  }

  private static Map<String, Object> attributes(Resource resource) {
    Map<String, Object> attributes = new LinkedHashMap<>();
    for (KeyValue kv : resource.getAttributesList()) {
      attributes.put(kv.getKey(), value(kv.getValue()));
    }
    return attributes;
  }

  private static Object value(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case BOOL_VALUE -> value.getBoolValue();
      case INT_VALUE -> value.getIntValue();
      case DOUBLE_VALUE -> value.getDoubleValue();
      case ARRAY_VALUE -> {
        List<Object> list = new ArrayList<>();
        value.getArrayValue().getValuesList().forEach(v -> list.add(value(v)));
        yield list;
      }
      default -> value.toString();
    };
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
