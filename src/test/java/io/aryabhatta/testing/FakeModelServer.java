package io.aryabhatta.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.aryabhatta.model.ModelEndpoint;
import io.aryabhatta.model.ToolCall;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A real OpenAI-compatible HTTP server for tests, scripted per test. It answers
 * {@code POST /v1/chat/completions} with the queued replies in order (streamed as SSE when the
 * request says {@code stream: true}, plain JSON otherwise) and {@code GET /v1/models}.
 *
 * <pre>{@code
 * try (FakeModelServer fake = FakeModelServer.start()) {
 *   fake.enqueue(FakeModelServer.toolCall("calculator", "{\"expression\":\"2+2\"}"),
 *       FakeModelServer.text("It is 4."));
 *   fake.failTimes(2, 503);                                   // queued after the two above
 *   fake.respondWith(request -> FakeModelServer.text("echo")); // when the queue is empty
 *   ModelEndpoint endpoint = fake.endpoint();                 // or fake.baseUrl()
 *   ...
 *   assertThat(fake.requests()).hasSize(2);
 *   assertThat(fake.lastRequest().body().path("messages")).hasSize(3);
 * }
 * }</pre>
 *
 * <p>With an empty queue and no responder it answers 500 with a message saying so, so a test that
 * makes one call too many fails loudly.
 */
public final class FakeModelServer implements AutoCloseable {
  public static final String API_KEY = "fake-test-key";
  public static final String MODEL = "fake-model";
  private static final int PIECE_LENGTH = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final ExecutorService executor;
  private final ConcurrentLinkedDeque<Reply> queue = new ConcurrentLinkedDeque<>();
  private final List<ReceivedRequest> requests = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger chatRequestCount = new AtomicInteger();
  private final AtomicReference<Function<ReceivedRequest, Reply>> responder = new AtomicReference<>();
  private volatile String modelsJson =
      "{\"object\":\"list\",\"data\":[{\"id\":\"" + MODEL + "\",\"object\":\"model\",\"owned_by\":\"fake\"}]}";

  private FakeModelServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts a server on 127.0.0.1 on a free port. */
  private final java.util.concurrent.atomic.AtomicInteger embeddingRequests = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger embeddingFailures = new java.util.concurrent.atomic.AtomicInteger();

  public static FakeModelServer start() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
      ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
      FakeModelServer fake = new FakeModelServer(server, executor);
      server.setExecutor(executor);
      server.createContext("/", fake::handle);
      server.start();
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the fake model server", e);
    }
  }

  /** e.g. {@code http://127.0.0.1:41234/v1}, the base URL an endpoint takes. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** An endpoint for this server: key {@link #API_KEY}, 3 attempts, short timeouts. */
  public ModelEndpoint endpoint() {
    return endpoint(3);
  }

  public ModelEndpoint endpoint(int maxAttempts) {
    return new ModelEndpoint("fake", baseUrl(), API_KEY, Map.of(), maxAttempts, Duration.ofSeconds(2),
        Duration.ofSeconds(10));
  }

  /** Queues replies, answered in order, one per chat-completions request. */
  public FakeModelServer enqueue(Reply... replies) {
    queue.addAll(Arrays.asList(replies));
    return this;
  }

  /** Queues {@code times} error replies with this status (e.g. 503, or 429). */
  public FakeModelServer failTimes(int times, int status) {
    for (int i = 0; i < times; i++) {
      queue.add(error(status));
    }
    return this;
  }

  /** Answers requests dynamically once the queue is empty. */
  public FakeModelServer respondWith(Function<ReceivedRequest, Reply> responder) {
    this.responder.set(responder);
    return this;
  }

  /** What {@code GET /v1/models} returns. */
  public FakeModelServer models(String json) {
    this.modelsJson = json;
    return this;
  }

  /** The chat-completions requests received, in order. */
  public List<ReceivedRequest> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  public ReceivedRequest lastRequest() {
    List<ReceivedRequest> all = requests();
    if (all.isEmpty()) {
      throw new AssertionError("the fake model server received no chat-completions request");
    }
    return all.get(all.size() - 1);
  }

  /** Replies still queued. */
  public int pendingReplies() {
    return queue.size();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  // ---- replies ----

  /** A text answer, finish reason {@code stop}. */
  public static Reply text(String text) {
    return Reply.completion(text, List.of(), "stop");
  }

  /** One tool call (id generated, content null), finish reason {@code tool_calls}. */
  public static Reply toolCall(String name, String argumentsJson) {
    return toolCalls(call(name, argumentsJson));
  }

  /** Several parallel tool calls; build them with {@link #call}. */
  public static Reply toolCalls(ToolCall... calls) {
    return Reply.completion(null, List.of(calls), "tool_calls");
  }

  /** A tool call for {@link #toolCalls}; the server gives it an id unless you use your own ToolCall. */
  public static ToolCall call(String name, String argumentsJson) {
    return new ToolCall(null, name, argumentsJson);
  }

  /** An error with an OpenAI-style body. */
  public static Reply error(int status) {
    return error(status, "{\"error\":{\"message\":\"fake error " + status + "\",\"type\":\"fake_error\",\"code\":null}}");
  }

  /** An error with this body (sent as application/json). */
  public static Reply error(int status, String body) {
    return raw(status, "application/json", body);
  }

  /** These exact bytes, whatever the request asked (e.g. a recorded SSE stream). */
  public static Reply raw(int status, String contentType, String body) {
    return Reply.raw(status, contentType, body);
  }

  /**
   * One scripted answer. Build with the static factories of {@link FakeModelServer}, adjust with
   * the {@code with…} methods (each returns a changed copy).
   */
  public static final class Reply {
    private boolean raw;
    private int status = 200;
    private String text;
    private String reasoning;
    private List<ToolCall> toolCalls = List.of();
    private String finishReason;
    private Integer promptTokens;
    private Integer completionTokens;
    private boolean includeUsage = true;
    private Map<String, String> headers = Map.of();
    private String rawBody;
    private Duration delay = Duration.ZERO;
    private Duration chunkDelay = Duration.ZERO;
    private int cutAfterChunks = -1;

    private Reply() {}

    static Reply completion(String text, List<ToolCall> calls, String finishReason) {
      Reply reply = new Reply();
      reply.text = text;
      reply.toolCalls = List.copyOf(calls);
      reply.finishReason = finishReason;
      return reply;
    }

    static Reply raw(int status, String contentType, String body) {
      Reply reply = new Reply();
      reply.raw = true;
      reply.status = status;
      reply.headers = Map.of("Content-Type", contentType);
      reply.rawBody = body;
      return reply;
    }

    /** Waits this long before answering (e.g. to exercise timeouts or cancellation). */
    public Reply withDelay(Duration delay) {
      Reply copy = copy();
      copy.delay = delay;
      return copy;
    }

    /** Waits this long between streamed chunks. */
    public Reply withChunkDelay(Duration chunkDelay) {
      Reply copy = copy();
      copy.chunkDelay = chunkDelay;
      return copy;
    }

    /**
     * Sends this many SSE events and drops the connection (not streaming, or for a raw reply:
     * half the body).
     */
    public Reply cutAfterChunks(int chunks) {
      Reply copy = copy();
      copy.cutAfterChunks = chunks;
      return copy;
    }

    /** Text beside tool calls, or a new text for a text reply. */
    public Reply withText(String text) {
      Reply copy = copy();
      copy.text = text;
      return copy;
    }

    /** Reasoning, sent as {@code reasoning_content}. */
    public Reply withReasoning(String reasoning) {
      Reply copy = copy();
      copy.reasoning = reasoning;
      return copy;
    }

    public Reply withFinishReason(String finishReason) {
      Reply copy = copy();
      copy.finishReason = finishReason;
      return copy;
    }

    /** Reported usage; by default prompt 10 and one completion token per streamed piece. */
    public Reply withUsage(int promptTokens, int completionTokens) {
      Reply copy = copy();
      copy.promptTokens = promptTokens;
      copy.completionTokens = completionTokens;
      copy.includeUsage = true;
      return copy;
    }

    /** Sends no usage at all. */
    public Reply withoutUsage() {
      Reply copy = copy();
      copy.includeUsage = false;
      return copy;
    }

    /** An extra response header, e.g. {@code Retry-After}. */
    public Reply withHeader(String name, String value) {
      Reply copy = copy();
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      copy.headers = Collections.unmodifiableMap(more);
      return copy;
    }

    private Reply copy() {
      Reply copy = new Reply();
      copy.raw = raw;
      copy.status = status;
      copy.text = text;
      copy.reasoning = reasoning;
      copy.toolCalls = toolCalls;
      copy.finishReason = finishReason;
      copy.promptTokens = promptTokens;
      copy.completionTokens = completionTokens;
      copy.includeUsage = includeUsage;
      copy.headers = headers;
      copy.rawBody = rawBody;
      copy.delay = delay;
      copy.chunkDelay = chunkDelay;
      copy.cutAfterChunks = cutAfterChunks;
      return copy;
    }
  }

  /**
   * A request the server received.
   *
   * @param headers header names are case-insensitive
   * @param body the JSON body, or null when it was not JSON
   */
  public record ReceivedRequest(String method, String path, Map<String, List<String>> headers, JsonNode body) {
    public String header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public boolean stream() {
      return body != null && body.path("stream").asBoolean(false);
    }

    public JsonNode messages() {
      return body == null ? JSON.createArrayNode() : body.path("messages");
    }

    /** The content of the last message, e.g. the tool result the model is being told about. */
    public String lastMessageContent() {
      JsonNode messages = messages();
      return messages.isEmpty() ? null : messages.get(messages.size() - 1).path("content").asText(null);
    }
  }

  // ---- serving ----

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (path.equals("/v1/models") && exchange.getRequestMethod().equals("GET")) {
        send(exchange, 200, "application/json", modelsJson);
      } else if (path.equals("/v1/chat/completions") && exchange.getRequestMethod().equals("POST")) {
        answerChat(exchange);
      } else if (path.equals("/v1/embeddings") && exchange.getRequestMethod().equals("POST")) {
        answerEmbeddings(exchange);
      } else {
        send(exchange, 404, "application/json",
            "{\"error\":{\"message\":\"FakeModelServer: no route " + exchange.getRequestMethod() + " " + path + "\"}}");
      }
    } catch (InterruptedException closing) {
      Thread.currentThread().interrupt();
    } catch (IOException clientWentAway) {
      // the client cancelled or timed out; nothing to answer
    }
  }

  private void answerChat(HttpExchange exchange) throws IOException, InterruptedException {
    ReceivedRequest request = record(exchange);
    int number = chatRequestCount.incrementAndGet();
    Reply reply = queue.poll();
    if (reply == null && responder.get() != null) {
      reply = responder.get().apply(request);
    }
    if (reply == null) {
      send(exchange, 500, "application/json", "{\"error\":{\"message\":\"FakeModelServer: no reply queued for "
          + "chat-completions request #" + number + "\",\"type\":\"fake_server_unscripted\"}}");
      return;
    }
    if (!reply.delay.isZero()) {
      Thread.sleep(reply.delay);
    }
    reply.headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
    if (reply.raw) {
      sendRaw(exchange, reply);
    } else if (request.stream()) {
      stream(exchange, reply, request, number);
    } else {
      byte[] body = JSON.writeValueAsBytes(completionBody(reply, request, number));
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      writeMaybeCut(exchange, reply, body);
    }
  }

  /**
   * {@code POST /v1/embeddings}: {@link FakeEmbeddings} of each input, after failing the number of
   * requests {@link #failEmbeddings} asked for with a 503.
   */
  private void answerEmbeddings(HttpExchange exchange) throws IOException {
    byte[] bytes = exchange.getRequestBody().readAllBytes();
    embeddingRequests.incrementAndGet();
    if (embeddingFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      send(exchange, 503, "application/json", "{\"error\":{\"message\":\"FakeModelServer: busy\"}}");
      return;
    }
    JsonNode input = JSON.readTree(bytes).path("input");
    com.fasterxml.jackson.databind.node.ObjectNode answer = JSON.createObjectNode().put("object", "list");
    com.fasterxml.jackson.databind.node.ArrayNode data = answer.putArray("data");
    for (int i = 0; i < input.size(); i++) {
      com.fasterxml.jackson.databind.node.ArrayNode vector = data.addObject().put("object", "embedding")
          .put("index", i).putArray("embedding");
      for (float x : FakeEmbeddings.of(input.get(i).asText())) {
        vector.add(x);
      }
    }
    send(exchange, 200, "application/json", JSON.writeValueAsString(answer));
  }

  /** How many embeddings requests came. */
  public int embeddingRequests() {
    return embeddingRequests.get();
  }

  /** The next {@code requests} embeddings requests fail with a 503 (a provider busy for a while). */
  public FakeModelServer failEmbeddings(int requests) {
    embeddingFailures.set(requests);
    return this;
  }

  private ReceivedRequest record(HttpExchange exchange) throws IOException {
    byte[] bytes = exchange.getRequestBody().readAllBytes();
    JsonNode body;
    try {
      body = JSON.readTree(bytes);
    } catch (IOException notJson) {
      body = null;
    }
    Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, List.copyOf(values)));
    ReceivedRequest request = new ReceivedRequest(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
        Collections.unmodifiableMap(headers), body);
    requests.add(request);
    return request;
  }

  private static void sendRaw(HttpExchange exchange, Reply reply) throws IOException {
    byte[] body = reply.rawBody.getBytes(StandardCharsets.UTF_8);
    if (reply.cutAfterChunks >= 0) {
      writeMaybeCut(exchange, reply, body);
      return;
    }
    exchange.sendResponseHeaders(reply.status, body.length == 0 ? -1 : body.length);
    exchange.getResponseBody().write(body);
  }

  private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  /** A whole body, or (cut) its first half followed by a dropped connection. */
  private static void writeMaybeCut(HttpExchange exchange, Reply reply, byte[] body) throws IOException {
    if (reply.cutAfterChunks < 0) {
      exchange.sendResponseHeaders(reply.status, body.length);
      exchange.getResponseBody().write(body);
      return;
    }
    exchange.sendResponseHeaders(reply.status, body.length);
    OutputStream out = exchange.getResponseBody();
    out.write(body, 0, body.length / 2);
    out.flush();
    dropConnection(out);
  }

  private void stream(HttpExchange exchange, Reply reply, ReceivedRequest request, int number)
      throws IOException, InterruptedException {
    List<String> events = new ArrayList<>();
    for (JsonNode chunk : chunks(reply, request, number)) {
      events.add("data: " + JSON.writeValueAsString(chunk) + "\n\n");
    }
    events.add("data: [DONE]\n\n");
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    boolean cut = reply.cutAfterChunks >= 0;
    // A cut stream promises more bytes than it sends, so the client sees the connection drop.
    exchange.sendResponseHeaders(reply.status, cut ? Integer.MAX_VALUE : 0);
    OutputStream out = exchange.getResponseBody();
    int sent = 0;
    for (String event : events) {
      if (cut && sent == reply.cutAfterChunks) {
        dropConnection(out);
        return;
      }
      if (sent > 0 && !reply.chunkDelay.isZero()) {
        Thread.sleep(reply.chunkDelay);
      }
      out.write(event.getBytes(StandardCharsets.UTF_8));
      out.flush();
      sent++;
    }
  }

  /**
   * Ends the response without its promised bytes. Closing the exchange alone would leave the
   * connection open; an exception out of the handler makes the JDK server close it.
   */
  private static void dropConnection(OutputStream out) throws IOException {
    out.flush();
    throw new DroppedConnection();
  }

  private static final class DroppedConnection extends RuntimeException {
    DroppedConnection() {
      super("scripted connection drop", null, false, false);
    }
  }

  private ObjectNode completionBody(Reply reply, ReceivedRequest request, int number) {
    ObjectNode body = envelope(request, number, "chat.completion");
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", reply.text);
    if (reply.reasoning != null) {
      message.put("reasoning_content", reply.reasoning);
    }
    List<ToolCall> calls = withIds(reply.toolCalls, number);
    if (!calls.isEmpty()) {
      ArrayNode toolCalls = message.putArray("tool_calls");
      for (ToolCall call : calls) {
        ObjectNode json = toolCalls.addObject();
        json.put("id", call.id());
        json.put("type", "function");
        json.putObject("function").put("name", call.name()).put("arguments", call.arguments());
      }
    }
    choice.put("finish_reason", reply.finishReason);
    if (reply.includeUsage) {
      body.set("usage", usage(reply, pieces(reply.text).size() + calls.size()));
    }
    return body;
  }

  private List<JsonNode> chunks(Reply reply, ReceivedRequest request, int number) {
    List<JsonNode> chunks = new ArrayList<>();
    ObjectNode role = chunk(request, number);
    role.withObject("/choices/0/delta").put("role", "assistant").put("content", "");
    chunks.add(role);
    for (String piece : pieces(reply.reasoning)) {
      ObjectNode chunk = chunk(request, number);
      chunk.withObject("/choices/0/delta").put("reasoning_content", piece);
      chunks.add(chunk);
    }
    List<String> textPieces = pieces(reply.text);
    for (String piece : textPieces) {
      ObjectNode chunk = chunk(request, number);
      chunk.withObject("/choices/0/delta").put("content", piece);
      chunks.add(chunk);
    }
    List<ToolCall> calls = withIds(reply.toolCalls, number);
    for (int i = 0; i < calls.size(); i++) {
      ToolCall call = calls.get(i);
      ObjectNode first = chunk(request, number);
      ObjectNode delta = first.withObject("/choices/0/delta").putArray("tool_calls").addObject();
      delta.put("index", i).put("id", call.id()).put("type", "function");
      delta.putObject("function").put("name", call.name()).put("arguments", "");
      chunks.add(first);
      String arguments = call.arguments();
      int half = arguments.length() / 2;
      for (String fragment : List.of(arguments.substring(0, half), arguments.substring(half))) {
        ObjectNode next = chunk(request, number);
        ObjectNode fragmentDelta = next.withObject("/choices/0/delta").putArray("tool_calls").addObject();
        fragmentDelta.put("index", i).putObject("function").put("arguments", fragment);
        chunks.add(next);
      }
    }
    ObjectNode finish = chunk(request, number);
    ((ObjectNode) finish.path("choices").get(0)).put("finish_reason", reply.finishReason);
    chunks.add(finish);
    if (reply.includeUsage) {
      ObjectNode usageChunk = envelope(request, number, "chat.completion.chunk");
      usageChunk.putArray("choices");
      usageChunk.set("usage", usage(reply, textPieces.size() + calls.size()));
      chunks.add(usageChunk);
    }
    return chunks;
  }

  private ObjectNode chunk(ReceivedRequest request, int number) {
    ObjectNode chunk = envelope(request, number, "chat.completion.chunk");
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putObject("delta");
    choice.putNull("finish_reason");
    return chunk;
  }

  private static ObjectNode envelope(ReceivedRequest request, int number, String object) {
    ObjectNode json = JSON.createObjectNode();
    json.put("id", "chatcmpl-fake-" + number);
    json.put("object", object);
    json.put("created", 1_760_000_000L + number);
    json.put("model", request.body() == null ? MODEL : request.body().path("model").asText(MODEL));
    return json;
  }

  private static ObjectNode usage(Reply reply, int pieces) {
    int prompt = reply.promptTokens == null ? 10 : reply.promptTokens;
    int completion = reply.completionTokens == null ? Math.max(1, pieces) : reply.completionTokens;
    ObjectNode usage = JSON.createObjectNode();
    usage.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    return usage;
  }

  private static List<ToolCall> withIds(List<ToolCall> calls, int number) {
    List<ToolCall> withIds = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      ToolCall call = calls.get(i);
      String id = call.id() != null ? call.id() : "call_" + number + "_" + i;
      withIds.add(new ToolCall(id, call.name(), call.arguments()));
    }
    return withIds;
  }

  /** The text cut into small pieces, as a model streams tokens. */
  private static List<String> pieces(String text) {
    List<String> pieces = new ArrayList<>();
    if (text == null) {
      return pieces;
    }
    for (int start = 0; start < text.length(); start += PIECE_LENGTH) {
      pieces.add(text.substring(start, Math.min(text.length(), start + PIECE_LENGTH)));
    }
    return pieces;
  }
}
