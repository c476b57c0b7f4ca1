package io.aryabhatta.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The one place that talks to models: OpenAI chat completions over HTTP, streamed (SSE) or not,
 * against any OpenAI-compatible server (HF router, OpenAI, vLLM, TGI, Ollama, llama.cpp, Groq, …).
 *
 * <p>Calls block the calling thread (meant to be a virtual thread). Interrupting that thread
 * cancels the HTTP call in flight and the call throws {@link ModelCallException.Cancelled}; the
 * thread's interrupt status is consumed by that, so the caller can still record the cancellation
 * (a JDBC socket on an interrupted virtual thread would be closed).
 *
 * <p>Failed attempts are retried when another attempt may succeed (429, 5xx, connection errors,
 * timeouts), up to {@link ModelEndpoint#maxAttempts()}, waiting as the provider asks in
 * {@code Retry-After} or with exponential backoff and jitter. A stream that already passed text to
 * the caller is never retried: the text would be delivered twice.
 */
public final class ModelClient implements ModelCaller {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final int LONGEST_ERROR_BODY = 64 * 1024;
  private static final int LONGEST_QUOTED_BODY = 200;

  private final OkHttpClient http;
  private static final int KEPT_CLIENTS = 64;
  private final Map<List<Duration>, OkHttpClient> clients = new ConcurrentHashMap<>();
  /** The providers' URLs as parsed: a run's every model call goes to one of a few. */
  private final Map<String, HttpUrl> urls = new ConcurrentHashMap<>();
  private static final int KEPT_URLS = 1024;
  private final ObjectMapper mapper;
  private final RetryPolicy retryPolicy;
  private final WireFormat wire;

  public ModelClient(OkHttpClient http, ObjectMapper mapper) {
    this(http, mapper, RetryPolicy.standard());
  }

  ModelClient(OkHttpClient http, ObjectMapper mapper, RetryPolicy retryPolicy) {
    this.http = http;
    this.mapper = mapper;
    this.retryPolicy = retryPolicy;
    this.wire = new WireFormat(mapper);
  }

  /**
   * Asks the model for the next message.
   *
   * @param onTextDelta receives the answer's text as it arrives, in order (for a non-streamed call,
   *     the whole text at once); reasoning text and tool calls are not passed to it; may be null
   * @return the answer with the request as sent, the response as received and every attempt
   * @throws ModelCallException the typed failure, with every attempt made
   */
  public ChatResult complete(ModelEndpoint endpoint, ChatRequest request, Consumer<String> onTextDelta) {
    return complete(endpoint, wire.write(request), onTextDelta);
  }

  /** The same for a request whose body is already written: exactly that text is sent. */
  @Override
  public ChatResult complete(ModelEndpoint endpoint, WrittenRequest written, Consumer<String> onTextDelta) {
    ChatRequest request = written.request();
    JsonNode body = written.body();
    Request httpRequest = new Request.Builder()
        .url(url(endpoint, endpoint.chatCompletionsUrl(), request.model()))
        .headers(RequestHeaders.forCall(endpoint, request.stream() ? "text/event-stream" : "application/json"))
        .post(RequestBody.create(written.json().getBytes(java.nio.charset.StandardCharsets.UTF_8), JSON))
        .build();
    OkHttpClient client = clientFor(endpoint);
    Consumer<String> deltas = onTextDelta == null ? text -> {} : onTextDelta;
    Completed<Received> completed = withRetries(endpoint, request.model(), () -> request.stream()
        ? streamOnce(client, httpRequest, deltas)
        : completeOnce(client, httpRequest, deltas));
    ResponseAssembler.Answer answer = completed.value().answer();
    return new ChatResult(answer.content(), answer.reasoning(), answer.toolCalls(), answer.finishReason(),
        answer.usage(), body, completed.value().response(), completed.attempts());
  }

  /**
   * Lists the models the provider serves ({@code GET baseUrl/models}), as the provider returns them.
   *
   * @throws ModelCallException the typed failure, with every attempt made
   */
  public JsonNode listModels(ModelEndpoint endpoint) {
    Request httpRequest = new Request.Builder()
        .url(url(endpoint, endpoint.modelsUrl(), null))
        .headers(RequestHeaders.forCall(endpoint, "application/json"))
        .get()
        .build();
    OkHttpClient client = clientFor(endpoint);
    return withRetries(endpoint, null, () -> {
      Call call = client.newCall(httpRequest);
      Progress progress = new Progress();
      try (Response response = call.execute()) {
        progress.status = response.code();
        if (!response.isSuccessful()) {
          throw httpFailure(response);
        }
        return new Attempted<>(response.code(), readJsonBody(response));
      } catch (IOException e) {
        throw ioFailure(call, e, progress, false);
      }
    }).value();
  }

  // ---- attempts and retries ----

  /** One attempt's successful outcome. */
  private record Attempted<T>(int status, T value) {}

  /** The value of the successful attempt and every attempt made. */
  private record Completed<T>(T value, List<Attempt> attempts) {}

  /** What a chat-completions attempt brought back. */
  private record Received(ResponseAssembler.Answer answer, JsonNode response) {}

  /** What an attempt has got so far, to decide whether a failure may be retried. */
  private static final class Progress {
    Integer status;
    boolean deliveredText;

    boolean responded() {
      return status != null;
    }
  }

  @FunctionalInterface
  private interface AttemptBody<T> {
    Attempted<T> run() throws AttemptFailed;
  }

  /** Ends one attempt; {@code httpStatus} is what the attempt record shows. */
  private static final class AttemptFailed extends Exception {
    final transient Failure failure;
    final Integer httpStatus;

    AttemptFailed(Failure failure, Integer httpStatus) {
      super(failure.detail(), null, false, false);
      this.failure = failure;
      this.httpStatus = httpStatus;
    }
  }

  private <T> Completed<T> withRetries(ModelEndpoint endpoint, String model, AttemptBody<T> body) {
    int maxAttempts = Math.max(1, endpoint.maxAttempts());
    List<Attempt> attempts = new ArrayList<>();
    while (true) {
      if (Thread.interrupted()) {
        throw cancelled().toException(endpoint, model, attempts);
      }
      long started = System.nanoTime();
      try {
        Attempted<T> success = body.run();
        attempts.add(new Attempt(success.status(), null, millisSince(started)));
        return new Completed<>(success.value(), attempts);
      } catch (AttemptFailed failed) {
        Failure failure = failed.failure;
        attempts.add(new Attempt(failed.httpStatus, Secrets.redact(failure.detail(), endpoint),
            millisSince(started)));
        if (!failure.retryable() || attempts.size() >= maxAttempts) {
          throw failure.toException(endpoint, model, attempts);
        }
        waitBeforeRetry(attempts.size(), failure.retryAfter(), endpoint, model, attempts);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        // OkHttp (Kotlin) can throw InterruptedException without declaring it, e.g. while it waits
        // for a TCP connect; an interrupt always means the caller cancelled the call.
        if (e instanceof InterruptedException) {
          attempts.add(new Attempt(null, "cancelled", millisSince(started)));
          throw cancelled().toException(endpoint, model, attempts);
        }
        throw new IllegalStateException(e);
      }
    }
  }

  private void waitBeforeRetry(int failedAttempts, Duration retryAfter, ModelEndpoint endpoint, String model,
      List<Attempt> attempts) {
    try {
      retryPolicy.sleeper().sleep(retryPolicy.delayAfter(failedAttempts, retryAfter));
    } catch (InterruptedException interrupted) {
      throw cancelled().toException(endpoint, model, attempts);
    }
  }

  // ---- one attempt ----

  private Attempted<Received> completeOnce(OkHttpClient client, Request httpRequest, Consumer<String> deltas)
      throws AttemptFailed {
    Call call = client.newCall(httpRequest);
    Progress progress = new Progress();
    try (Response response = call.execute()) {
      progress.status = response.code();
      if (!response.isSuccessful()) {
        throw httpFailure(response);
      }
      return new Attempted<>(response.code(), fromWholeBody(readJsonBody(response), response.code(), deltas));
    } catch (IOException e) {
      throw ioFailure(call, e, progress, false);
    }
  }

  private Attempted<Received> streamOnce(OkHttpClient client, Request httpRequest, Consumer<String> deltas)
      throws AttemptFailed {
    Call call = client.newCall(httpRequest);
    Progress progress = new Progress();
    try (Response response = call.execute()) {
      progress.status = response.code();
      if (!response.isSuccessful()) {
        throw httpFailure(response);
      }
      if (!isEventStream(response)) {
        // Some servers ignore stream: true and answer with one JSON body.
        return new Attempted<>(response.code(), fromWholeBody(readJsonBody(response), response.code(), deltas));
      }
      return new Attempted<>(response.code(), readStream(response, progress, deltas));
    } catch (IOException e) {
      throw ioFailure(call, e, progress, true);
    }
  }

  private Received readStream(Response response, Progress progress, Consumer<String> deltas)
      throws IOException, AttemptFailed {
    ArrayNode chunks = mapper.createArrayNode();
    ResponseAssembler assembler = new ResponseAssembler(mapper);
    SseReader reader = new SseReader(response.body().source());
    boolean sawDone = false;
    for (SseReader.Event event = reader.next(); event != null; event = reader.next()) {
      if (event.data().strip().equals("[DONE]")) {
        sawDone = true;
        break;
      }
      if (event.data().isBlank()) {
        continue;
      }
      JsonNode chunk = parseChunk(event, response.code(), progress);
      chunks.add(chunk);
      if ("error".equals(event.name()) || hasError(chunk)) {
        throw errorInStream(ErrorMapping.forErrorEvent(ProviderError.fromJson(chunk)), response.code(), progress);
      }
      String text = assembler.acceptChunk(chunk);
      if (text != null) {
        progress.deliveredText = true;
        deltas.accept(text);
      }
    }
    if (!sawDone && !assembler.finished()) {
      Failure cut = Failure.of(FailureKind.STREAM_INTERRUPTED, null, null,
          "the stream ended after " + chunks.size() + " chunks, before the model finished", true);
      throw errorInStream(cut, response.code(), progress);
    }
    return new Received(assembler.answer(), chunks);
  }

  private JsonNode parseChunk(SseReader.Event event, int status, Progress progress) throws AttemptFailed {
    try {
      return mapper.readTree(event.data());
    } catch (JsonProcessingException notJson) {
      if ("error".equals(event.name())) {
        Failure failure = Failure.of(FailureKind.STREAM_INTERRUPTED, null, quote(event.data()),
            "error event: " + quote(event.data()), true);
        throw errorInStream(failure, status, progress);
      }
      Failure failure = Failure.of(FailureKind.INVALID_RESPONSE, null, null,
          "a stream chunk is not JSON: " + quote(event.data()), false);
      throw new AttemptFailed(failure.withCause(notJson), status);
    }
  }

  private static AttemptFailed errorInStream(Failure failure, int status, Progress progress) {
    return new AttemptFailed(progress.deliveredText ? failure.afterTextDelivered() : failure, status);
  }

  private Received fromWholeBody(JsonNode body, int status, Consumer<String> deltas) throws AttemptFailed {
    if (hasError(body) && !body.has("choices")) {
      throw new AttemptFailed(ErrorMapping.forErrorEvent(ProviderError.fromJson(body)), status);
    }
    if (!body.path("choices").isArray()) {
      throw new AttemptFailed(Failure.of(FailureKind.INVALID_RESPONSE, null, null,
          "the response has no choices: " + quote(body.toString()), false), status);
    }
    ResponseAssembler assembler = new ResponseAssembler(mapper);
    assembler.acceptBody(body);
    ResponseAssembler.Answer answer = assembler.answer();
    if (answer.content() != null && !answer.content().isEmpty()) {
      deltas.accept(answer.content());
    }
    return new Received(answer, body);
  }

  private JsonNode readJsonBody(Response response) throws IOException, AttemptFailed {
    String text = response.body().string();
    try {
      JsonNode json = mapper.readTree(text);
      if (json != null && json.isObject()) {
        return json;
      }
    } catch (JsonProcessingException notJson) {
      // reported below
    }
    throw new AttemptFailed(Failure.of(FailureKind.INVALID_RESPONSE, null, null,
        "the body is not a JSON object: " + quote(text), false), response.code());
  }

  // ---- failures ----

  private AttemptFailed httpFailure(Response response) {
    String body;
    try {
      body = response.peekBody(LONGEST_ERROR_BODY).string();
    } catch (IOException unreadable) {
      body = null;
    }
    ProviderError error = ProviderError.parse(mapper, body, response.header("X-Error-Message"));
    Duration retryAfter = retryPolicy.retryAfter(response.headers());
    return new AttemptFailed(ErrorMapping.forStatus(response.code(), error, retryAfter), response.code());
  }

  private static AttemptFailed ioFailure(Call call, IOException e, Progress progress, boolean streaming) {
    Integer status = progress.status;
    if (Thread.interrupted() || isInterruption(e)) {
      call.cancel();
      return new AttemptFailed(cancelled().withCause(e), status);
    }
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    Failure failure;
    if (e instanceof SocketTimeoutException || isCallTimeout(e)) {
      failure = Failure.of(FailureKind.TIMEOUT, null, null,
          (progress.responded() ? "no data within the read timeout: " : "timed out: ") + reason, true);
    } else if (!progress.responded()) {
      failure = Failure.of(FailureKind.PROVIDER_UNAVAILABLE, null, null, "connection failed: " + reason, true);
    } else if (streaming) {
      failure = Failure.of(FailureKind.STREAM_INTERRUPTED, null, null, "the connection was lost: " + reason, true);
    } else {
      failure = Failure.of(FailureKind.PROVIDER_UNAVAILABLE, null, null,
          "the connection was lost while reading the response: " + reason, true);
    }
    if (progress.deliveredText) {
      failure = failure.afterTextDelivered();
    }
    return new AttemptFailed(failure.withCause(e), status);
  }

  /** Okio reports an interrupted thread as a plain InterruptedIOException; a timeout is a subclass. */
  private static boolean isInterruption(IOException e) {
    return e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException) && !isCallTimeout(e);
  }

  private static boolean isCallTimeout(IOException e) {
    return e instanceof InterruptedIOException && "timeout".equals(e.getMessage());
  }

  private static Failure cancelled() {
    return Failure.of(FailureKind.CANCELLED, null, null, "the calling thread was interrupted", false);
  }

  // ---- plumbing ----

  /**
   * A client with the endpoint's timeouts. Clients differ only in them (they share connections),
   * so one per pair of timeouts is kept, up to a bound.
   */
  private OkHttpClient clientFor(ModelEndpoint endpoint) {
    List<Duration> timeouts = Arrays.asList(endpoint.connectTimeout(), endpoint.readTimeout());
    OkHttpClient kept = clients.get(timeouts);
    if (kept != null) {
      return kept;
    }
    OkHttpClient.Builder builder = http.newBuilder();
    if (endpoint.connectTimeout() != null) {
      builder.connectTimeout(endpoint.connectTimeout());
    }
    if (endpoint.readTimeout() != null) {
      builder.readTimeout(endpoint.readTimeout());
    }
    OkHttpClient client = builder.build();
    if (clients.size() < KEPT_CLIENTS) {
      clients.putIfAbsent(timeouts, client);
    }
    return client;
  }

  private HttpUrl url(ModelEndpoint endpoint, String url, String model) {
    HttpUrl kept = urls.get(url);
    if (kept != null) {
      return kept;
    }
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      throw Failure.of(FailureKind.REJECTED, null, null,
              "the base URL '" + endpoint.baseUrl() + "' is not an http(s) URL", false)
          .toException(endpoint, model, List.of());
    }
    if (urls.size() < KEPT_URLS) {
      urls.putIfAbsent(url, parsed);
    }
    return parsed;
  }

  private static boolean hasError(JsonNode json) {
    JsonNode error = json.get("error");
    return error != null && !error.isNull();
  }

  private static boolean isEventStream(Response response) {
    String type = response.header("Content-Type");
    return type == null || !type.toLowerCase().startsWith("application/json");
  }

  private static String quote(String text) {
    String oneLine = text == null ? "" : text.strip().replaceAll("\\s+", " ");
    return oneLine.length() <= LONGEST_QUOTED_BODY ? oneLine : oneLine.substring(0, LONGEST_QUOTED_BODY) + "…";
  }

  private static long millisSince(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
