package io.aryabhatta.tools;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A real HTTP server on a loopback address that records what it receives. */
final class FakeTarget implements AutoCloseable {
  /** What the target saw of one request. */
  record Received(String method, URI uri, Headers headers, String body) {
    String header(String name) {
      return headers.getFirst(name);
    }
  }

  @FunctionalInterface
  interface Handler {
    void handle(HttpExchange exchange, Received request) throws IOException;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  private FakeTarget(String host, Handler handler) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", exchange -> {
      try (exchange) {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Received request = new Received(exchange.getRequestMethod(), exchange.getRequestURI(),
            exchange.getRequestHeaders(), body);
        received.add(request);
        handler.handle(exchange, request);
      }
    });
    server.start();
  }

  static FakeTarget on(String host, Handler handler) throws IOException {
    return new FakeTarget(host, handler);
  }

  /** A target on 127.0.0.1. */
  static FakeTarget start(Handler handler) throws IOException {
    return on("127.0.0.1", handler);
  }

  /** A target on 127.0.0.1 answering every request the same way. */
  static FakeTarget replying(int status, String contentType, String body) throws IOException {
    return start((exchange, request) -> respond(exchange, status, contentType, body));
  }

  static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    if (contentType != null) {
      exchange.getResponseHeaders().set("Content-Type", contentType);
    }
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  static void redirect(HttpExchange exchange, String location) throws IOException {
    exchange.getResponseHeaders().set("Location", location);
    exchange.sendResponseHeaders(302, -1);
  }

  String url(String path) {
    String host = server.getAddress().getAddress().getHostAddress();
    return "http://" + host + ":" + port() + path;
  }

  int port() {
    return server.getAddress().getPort();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  Received only() {
    if (received.size() != 1) {
      throw new AssertionError("expected exactly one request, got " + received.size());
    }
    return received.getFirst();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
