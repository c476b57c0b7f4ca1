package io.aryabhatta.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP endpoint for HTTP tools to call: it counts calls, remembers each request's path,
 * body, headers and Idempotency-Key, and answers with a fixed body after an optional delay, or (see
 * {@link #hangUp}) reads the whole request and closes the connection without answering.
 */
public final class ToolTarget implements AutoCloseable {
  public record Call(String method, String path, String body, String idempotencyKey,
      Map<String, List<String>> headers) {
    /** The request's first value of header {@code name} (any case), or null. */
    public String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private volatile int status = 200;
  private volatile String body = "{\"ok\":true}";
  private volatile Duration delay = Duration.ZERO;
  private volatile String contentType = "application/json";
  private volatile boolean hangUp;
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private volatile int failureStatus;

  private ToolTarget() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  public static ToolTarget start() {
    return new ToolTarget();
  }

  public ToolTarget answer(int status, String body) {
    this.status = status;
    this.body = body;
    return this;
  }

  /** The Content-Type of the answers (default {@code application/json}). */
  public ToolTarget contentType(String contentType) {
    this.contentType = contentType;
    return this;
  }

  /**
   * From now on every call is received in full (and counted), then, after the delay, the
   * connection is closed without a single byte of response: the caller cannot know whether the
   * request was acted on.
   */
  public ToolTarget hangUp() {
    this.hangUp = true;
    return this;
  }

  /** The next {@code times} calls are answered with {@code status} (and no delay) instead. */
  public ToolTarget failNext(int times, int status) {
    this.failureStatus = status;
    this.failuresLeft.set(times);
    return this;
  }

  public ToolTarget delay(Duration delay) {
    this.delay = delay;
    return this;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  public List<Call> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    String requestBody = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    calls.add(new Call(exchange.getRequestMethod(), exchange.getRequestURI().toString(), requestBody,
        exchange.getRequestHeaders().getFirst("Idempotency-Key"), Map.copyOf(exchange.getRequestHeaders())));
    boolean fail = failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    try {
      Thread.sleep(fail ? 0 : delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (hangUp && !fail) {
      // An exception out of the handler, before any response header, makes the JDK server close
      // the connection without answering.
      throw new HungUp();
    }
    byte[] bytes = (fail ? "{\"error\":\"scripted failure\"}" : body).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", fail ? "application/json" : contentType);
    exchange.sendResponseHeaders(fail ? failureStatus : status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private static final class HungUp extends RuntimeException {
    HungUp() {
      super("scripted hang-up: the connection is closed without an answer", null, false, false);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
