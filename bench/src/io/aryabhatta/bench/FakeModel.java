package io.aryabhatta.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible chat-completions server with a fixed script per run: the first call asks
 * for {@code calculator}, the second for {@code current_time}, the third answers in text. Each
 * answer waits {@link #latencyMillis} before its first byte (the model "thinking") and streams the
 * text at {@link #tokensPerSecond}. It records, per run tag, when it emitted the first token of
 * the final answer, so the benchmark can measure what the platform adds to time to first token.
 */
final class FakeModel implements AutoCloseable {
  static final String MODEL = "bench-model";
  static final String API_KEY = "bench-fake-model-key";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ANSWER_TOKENS = 20;

  private final HttpServer server;
  private final ExecutorService executor;
  private final ConcurrentHashMap<String, Long> firstTokenNanos = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> serviceNanos = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peakInFlight = new AtomicInteger();
  private volatile long latencyMillis;
  private volatile int tokensPerSecond;

  private FakeModel(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  static FakeModel start() {
    // The JDK server leaves Nagle's algorithm on: each streamed chunk after the first would wait for
    // the platform's delayed ACK (up to 40 ms), time the benchmark would charge to the model call.
    // Read once, when the JDK's server configuration loads, so it must be set before any server.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // It also closes kept-alive connections beyond 200 idle ones, which a client of 1,000 concurrent
    // calls then finds closed when it reuses them (the JDK's client does not retry a POST).
    System.setProperty("sun.net.httpserver.maxIdleConnections", "10000");
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
      // Platform threads of its own, so that the benchmark can tell their CPU time from the
      // platform's (BenchThreads); kept for an hour, so none ends with its CPU time uncounted.
      ExecutorService executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 1, TimeUnit.HOURS,
          new SynchronousQueue<>(), BenchThreads.factory(BenchThreads.MODEL));
      FakeModel fake = new FakeModel(server, executor);
      server.setExecutor(executor);
      server.createContext("/v1/chat/completions", fake::answer);
      server.createContext("/v1/embeddings", FakeModel::embed);
      server.start();
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the fake model server", e);
    }
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** Time before each answer's first byte, and the text streaming rate (0: as fast as possible). */
  void configure(long latencyMillis, int tokensPerSecond) {
    this.latencyMillis = latencyMillis;
    this.tokensPerSecond = tokensPerSecond;
  }

  /** When the final answer's first token was sent for the run tagged {@code tag} ({@link System#nanoTime}). */
  Long firstTokenNanos(String tag) {
    return firstTokenNanos.remove(tag);
  }

  /**
   * Time this server spent on the run's model calls, from receiving each request to sending its
   * last byte: the model time, without the whole-millisecond rounding of the journal.
   */
  Long serviceNanos(String tag) {
    return serviceNanos.remove(tag);
  }

  /** Drops what was recorded about earlier runs. */
  void forgetRuns() {
    firstTokenNanos.clear();
    serviceNanos.clear();
  }

  int inFlight() {
    return inFlight.get();
  }

  int takePeakInFlight() {
    return peakInFlight.getAndSet(inFlight.get());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  static final int EMBEDDING_DIMENSIONS = 256;

  /** {@code POST /v1/embeddings}: a hashed bag of words per input, normalized (cheap and deterministic). */
  private static void embed(HttpExchange exchange) {
    try (exchange) {
      JsonNode input = JSON.readTree(exchange.getRequestBody()).path("input");
      StringBuilder body = new StringBuilder(input.size() * EMBEDDING_DIMENSIONS * 8).append("{\"object\":\"list\",\"data\":[");
      for (int i = 0; i < input.size(); i++) {
        float[] v = new float[EMBEDDING_DIMENSIONS];
        for (String word : input.get(i).asText().toLowerCase(java.util.Locale.ROOT).split("[^a-z0-9]+")) {
          if (!word.isEmpty()) {
            v[Math.floorMod(word.hashCode(), EMBEDDING_DIMENSIONS)] += 1;
          }
        }
        double norm = 0;
        for (float x : v) {
          norm += x * x;
        }
        body.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":[");
        for (int j = 0; j < v.length; j++) {
          body.append(j == 0 ? "" : ",").append(norm == 0 ? 0 : (float) (v[j] / Math.sqrt(norm)));
        }
        body.append("]}");
      }
      byte[] bytes = body.append("]}").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
    } catch (IOException e) {
      // the client went away
    }
  }

  private void answer(HttpExchange exchange) {
    long received = System.nanoTime();
    int now = inFlight.incrementAndGet();
    peakInFlight.accumulateAndGet(now, Math::max);
    try (exchange) {
      JsonNode request = JSON.readTree(exchange.getRequestBody());
      JsonNode messages = request.path("messages");
      int toolResults = 0;
      String tag = "";
      for (JsonNode m : messages) {
        if (m.path("role").asText().equals("tool")) {
          toolResults++;
        } else if (m.path("role").asText().equals("user")) {
          tag = m.path("content").asText();
        }
      }
      if (latencyMillis > 0) {
        Thread.sleep(latencyMillis);
      }
      if (!request.path("stream").asBoolean(false)) {
        whole(exchange, toolResults, tag);
        serviceNanos.merge(tag, System.nanoTime() - received, Long::sum);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      switch (toolResults) {
        case 0 -> toolCall(out, "call_calc", "calculator", "{\"expression\":\"(12.5 + 7) * 3\"}");
        case 1 -> toolCall(out, "call_time", "current_time", "{\"timezone\":\"UTC\"}");
        default -> text(out, tag);
      }
      send(out, "data: [DONE]\n\n");
      serviceNanos.merge(tag, System.nanoTime() - received, Long::sum);
    } catch (IOException | InterruptedException clientGone) {
      // the platform cancelled or timed out the call; nothing to answer
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** The same script as one JSON body, for a client that does not stream. */
  private void whole(HttpExchange exchange, int toolResults, String tag) throws IOException {
    ObjectNode message = JSON.createObjectNode();
    message.put("role", "assistant");
    String finishReason;
    int completionTokens;
    if (toolResults < 2) {
      message.putNull("content");
      ObjectNode call = message.putArray("tool_calls").addObject();
      call.put("id", toolResults == 0 ? "call_calc" : "call_time").put("type", "function");
      call.putObject("function").put("name", toolResults == 0 ? "calculator" : "current_time")
          .put("arguments", toolResults == 0 ? "{\"expression\":\"(12.5 + 7) * 3\"}" : "{\"timezone\":\"UTC\"}");
      finishReason = "tool_calls";
      completionTokens = 1;
    } else {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < ANSWER_TOKENS; i++) {
        text.append("tok").append(i).append(' ');
      }
      message.put("content", text.toString());
      finishReason = "stop";
      completionTokens = ANSWER_TOKENS;
      firstTokenNanos.put(tag, System.nanoTime());
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("id", "chatcmpl-bench").put("object", "chat.completion").put("created", 0).put("model", MODEL);
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0);
    choice.set("message", message);
    choice.put("finish_reason", finishReason);
    body.putObject("usage").put("prompt_tokens", 50).put("completion_tokens", completionTokens)
        .put("total_tokens", 50 + completionTokens);
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static void toolCall(OutputStream out, String id, String name, String arguments) throws IOException {
    ObjectNode delta = JSON.createObjectNode();
    delta.put("role", "assistant");
    ObjectNode call = delta.putArray("tool_calls").addObject();
    call.put("index", 0).put("id", id).put("type", "function");
    call.putObject("function").put("name", name).put("arguments", arguments);
    send(out, chunk(delta, null));
    send(out, chunk(JSON.createObjectNode(), "tool_calls"));
    send(out, usage(1));
  }

  private void text(OutputStream out, String tag) throws IOException, InterruptedException {
    long pause = tokensPerSecond <= 0 ? 0 : 1000L / tokensPerSecond;
    for (int i = 0; i < ANSWER_TOKENS; i++) {
      if (i > 0 && pause > 0) {
        Thread.sleep(pause);
      }
      ObjectNode delta = JSON.createObjectNode();
      if (i == 0) {
        delta.put("role", "assistant");
      }
      delta.put("content", "tok" + i + " ");
      String event = chunk(delta, null);
      if (i == 0) {
        firstTokenNanos.put(tag, System.nanoTime());
      }
      send(out, event);
    }
    send(out, chunk(JSON.createObjectNode(), "stop"));
    send(out, usage(ANSWER_TOKENS));
  }

  private static String chunk(ObjectNode delta, String finishReason) {
    ObjectNode chunk = JSON.createObjectNode();
    chunk.put("id", "chatcmpl-bench").put("object", "chat.completion.chunk").put("model", MODEL);
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", 0);
    choice.set("delta", delta);
    choice.put("finish_reason", finishReason);
    return "data: " + chunk + "\n\n";
  }

  private static String usage(int completionTokens) {
    ObjectNode chunk = JSON.createObjectNode();
    chunk.put("id", "chatcmpl-bench").put("object", "chat.completion.chunk").put("model", MODEL);
    chunk.putArray("choices");
    chunk.putObject("usage").put("prompt_tokens", 50).put("completion_tokens", completionTokens)
        .put("total_tokens", 50 + completionTokens);
    return "data: " + chunk + "\n\n";
  }

  private static void send(OutputStream out, String event) throws IOException {
    out.write(event.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
