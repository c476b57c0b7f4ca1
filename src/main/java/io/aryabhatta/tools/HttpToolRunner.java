package io.aryabhatta.tools;

import io.aryabhatta.tools.AddressGuard.BlockedAddressException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLException;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;

/**
 * Sends the requests of HTTP tools and {@code http_get} with the SSRF guard on every hop,
 * redirects followed by hand (at most {@value #MAX_REDIRECTS}), one deadline for the whole call,
 * a response size cap, and prompt cancellation when the calling thread is interrupted.
 *
 * <p>A failure says whether the target may have received the request: each hop watches whether
 * OkHttp started writing the request, and a failure after that (or a 502/504 from a gateway,
 * judged by the caller) leaves the call's outcome unknown.
 */
final class HttpToolRunner {
  static final int MAX_REDIRECTS = 5;
  /** Enough of an error response to show its first few hundred characters. */
  private static final long ERROR_BODY_BYTES = 4_096;
  /** Headers that are safe to carry to another origin on a redirect; the tool's own may hold secrets. */
  private static final Set<String> CROSS_ORIGIN_HEADERS = Set.of("idempotency-key", "user-agent", "accept");

  private final OkHttpClient client;
  private final AddressGuard guard;
  private final long maxResponseBytes;

  HttpToolRunner(OkHttpClient base, AddressGuard guard, long maxResponseBytes) {
    // Async calls let an interrupted caller cancel the call; the dispatcher's own threads are
    // virtual and its limits high, so tool calls never queue behind each other.
    Dispatcher dispatcher = new Dispatcher(Executors.newVirtualThreadPerTaskExecutor());
    dispatcher.setMaxRequests(4_096);
    dispatcher.setMaxRequestsPerHost(1_024);
    this.client = guard.guardedClient(base)
        // The call's deadline (the tool's timeout) bounds every phase; the base client's own
        // timeouts (OkHttp's default 10 s) would cut a longer call short, reported as the tool's.
        .connectTimeout(Duration.ZERO)
        .readTimeout(Duration.ZERO)
        .writeTimeout(Duration.ZERO)
        .dispatcher(dispatcher)
        .build();
    this.guard = guard;
    this.maxResponseBytes = maxResponseBytes;
  }

  long maxResponseBytes() {
    return maxResponseBytes;
  }

  /**
   * Sends {@code request}, following redirects through the guard.
   *
   * @param acceptContent decides whether a successful response's content type may be read (the
   *     type is null when the response has none)
   * @return the final response, its body read up to the cap
   * @throws Failed when the call cannot complete; the message is meant for the model
   * @throws InterruptedException when the calling thread was interrupted (the call is cancelled)
   */
  Fetched fetch(Request request, Duration timeout, Predicate<MediaType> acceptContent)
      throws Failed, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean safe = request.method().equals("GET") || request.method().equals("HEAD");
    // A redirect is an answer: a request that is not a GET or HEAD reached its first target, which
    // may have acted on it (a POST answered "303 See Other"), so what follows cannot say the call
    // failed. A GET redirected is only told where to look.
    String answeredBy = null;
    Request current = request;
    for (int redirects = 0; ; redirects++) {
      try {
        Hop hop = hop(current, deadline, timeout, acceptContent);
        if (hop.location() == null) {
          return answeredBy == null ? hop.fetched() : hop.fetched().redirectedBy(answeredBy);
        }
        if (redirects == MAX_REDIRECTS) {
          throw Failed.permanent("too many redirects (more than " + MAX_REDIRECTS + ") starting at "
              + request.url().host());
        }
        current = redirect(current, hop.fetched().status(), hop.location());
        answeredBy = safe ? null : request.url().host();
      } catch (Failed e) {
        throw answeredBy == null ? e : e.afterTheTargetAnswered(answeredBy);
      }
    }
  }

  private Hop hop(Request request, long deadline, Duration timeout, Predicate<MediaType> acceptContent)
      throws Failed, InterruptedException {
    try {
      guard.checkUrl(request.url());
    } catch (BlockedAddressException e) {
      throw Failed.permanent(e.getMessage());
    }
    return send(request, deadline, timeout, acceptContent);
  }

  private Hop send(Request request, long deadline, Duration timeout, Predicate<MediaType> acceptContent)
      throws Failed, InterruptedException {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
      // The hops before answered with redirects: this one has sent nothing yet.
      throw timedOutBeforeSending(request.url(), timeout);
    }
    Call call = client.newCall(request);
    call.timeout().timeout(remaining, TimeUnit.NANOSECONDS);
    RequestWriteWatch written = new RequestWriteWatch();
    call.addEventListener(written);
    CompletableFuture<Hop> result = new CompletableFuture<>();
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        result.completeExceptionally(e);
      }

      @Override
      public void onResponse(Call c, Response response) {
        try (response) {
          result.complete(read(response, acceptContent));
        } catch (Throwable t) {
          result.completeExceptionally(t);
        }
      }
    });
    try {
      return result.get();
    } catch (InterruptedException e) {
      call.cancel();
      throw e;
    } catch (ExecutionException e) {
      throw describe(e.getCause(), request.url(), timeout, written.started());
    }
  }

  private Hop read(Response response, Predicate<MediaType> acceptContent) throws IOException {
    int status = response.code();
    String location = response.header("Location");
    HttpUrl url = response.request().url();
    if (response.isRedirect() && location != null) {
      HttpUrl target = url.resolve(location);
      if (target == null) {
        throw new NotFollowable("HTTP " + status + " from " + url.host() + " redirects to an unsupported location");
      }
      return new Hop(new Fetched(status, url, null, "", false, null), target);
    }
    MediaType contentType = response.body().contentType();
    if (response.isSuccessful() && !acceptContent.test(contentType)) {
      throw new NotFollowable(url.host() + " answered with content type " + contentType
          + ", which this tool does not read (text only)");
    }
    long limit = response.isSuccessful() ? maxResponseBytes : ERROR_BODY_BYTES;
    BufferedSource source = response.body().source();
    Buffer buffer = new Buffer();
    // Read at most limit + 1 bytes: enough to know the body is larger without holding all of it.
    while (buffer.size() <= limit) {
      if (source.read(buffer, Math.min(8_192, limit + 1 - buffer.size())) == -1) {
        break;
      }
    }
    boolean truncated = buffer.size() > limit;
    Charset charset = contentType == null ? StandardCharsets.UTF_8 : contentType.charset(StandardCharsets.UTF_8);
    String body = buffer.readString(Math.min(buffer.size(), limit), charset);
    return new Hop(new Fetched(status, url, contentType, body, truncated, null), null);
  }

  private static Request redirect(Request previous, int status, HttpUrl target) {
    Request.Builder next = previous.newBuilder().url(target);
    boolean keepsMethod = status == 307 || status == 308 || previous.method().equals("HEAD");
    if (!keepsMethod) {
      next.method("GET", null).removeHeader("Content-Type").removeHeader("Content-Length");
    }
    if (!sameOrigin(previous.url(), target)) {
      for (String name : previous.headers().names()) {
        if (!CROSS_ORIGIN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
          next.removeHeader(name);
        }
      }
    }
    return next.build();
  }

  private static boolean sameOrigin(HttpUrl a, HttpUrl b) {
    return a.scheme().equals(b.scheme()) && a.host().equals(b.host()) && a.port() == b.port();
  }

  private static Failed describe(Throwable cause, HttpUrl url, Duration timeout, boolean requestWritten) {
    Throwable blocked = BlockedAddressException.in(cause);
    if (blocked != null) {
      return Failed.permanent(blocked.getMessage());
    }
    if (cause instanceof NotFollowable e) {
      return Failed.permanent(e.getMessage());
    }
    String target = target(url);
    if (requestWritten) {
      return Failed.outcomeUnknown("outcome unknown: the request to " + target + " may have been received ("
          + afterWriting(cause, timeout) + ")");
    }
    return switch (cause) {
      case InterruptedIOException e -> timedOutBeforeSending(url, timeout);
      case UnknownHostException e -> Failed.permanent("cannot resolve host " + url.host());
      case ConnectException e -> Failed.transientFailure("cannot connect to " + target + " (" + e.getMessage() + ")");
      case SSLException e -> Failed.permanent("TLS handshake with " + target + " failed: " + e.getMessage());
      case IOException e -> Failed.permanent("request to " + target + " failed: " + e.getMessage());
      default -> Failed.permanent("request to " + target + " failed: " + cause.getClass().getSimpleName());
    };
  }

  private static Failed timedOutBeforeSending(HttpUrl url, Duration timeout) {
    return Failed.transientFailure("timed out after " + timeout.toMillis() + " ms before the request to " + target(url)
        + " was sent");
  }

  private static String target(HttpUrl url) {
    return url.host() + ":" + url.port();
  }

  private static String afterWriting(Throwable cause, Duration timeout) {
    return switch (cause) {
      case InterruptedIOException e -> "timed out after " + timeout.toMillis() + " ms waiting for the answer";
      case IOException e -> "the connection failed: " + e.getMessage();
      default -> "the call failed: " + cause.getClass().getSimpleName();
    };
  }

  /** A response as read: the body is at most the cap, {@code truncated} says whether more was sent. */
  /**
   * @param redirectedBy the host that answered a request other than GET or HEAD with a redirect
   *     before this response (it may have acted on it), or null
   */
  record Fetched(int status, HttpUrl url, MediaType contentType, String body, boolean truncated,
      String redirectedBy) {
    boolean successful() {
      return status >= 200 && status < 300;
    }

    Fetched redirectedBy(String host) {
      return new Fetched(status, url, contentType, body, truncated, host);
    }
  }

  private record Hop(Fetched fetched, HttpUrl location) {}

  /**
   * Sets itself when OkHttp starts writing a request's headers: from then on bytes of the request
   * may have reached the target, which may act on them. Before it (DNS, connect, TLS handshake)
   * nothing of the request has left.
   */
  private static final class RequestWriteWatch extends EventListener {
    private volatile boolean started;

    @Override
    public void requestHeadersStart(Call call) {
      started = true;
    }

    boolean started() {
      return started;
    }
  }

  /** The call could not produce a usable response; the message is meant for the model. */
  static final class Failed extends Exception {
    /** What the failure tells about the request's effect, as {@link ToolOutcome} reports it. */
    private enum Kind {
      /** Nothing was sent, or the target answered, and a retry would not help. */
      PERMANENT,
      /** Nothing was sent, and a retry may get past it (a refused connection, a timeout before sending). */
      TRANSIENT,
      /** The request may have reached the target: nobody knows whether it took effect. */
      OUTCOME_UNKNOWN
    }

    private final Kind kind;

    private Failed(String message, Kind kind) {
      super(message);
      this.kind = kind;
    }

    static Failed permanent(String message) {
      return new Failed(message, Kind.PERMANENT);
    }

    static Failed transientFailure(String message) {
      return new Failed(message, Kind.TRANSIENT);
    }

    static Failed outcomeUnknown(String message) {
      return new Failed(message, Kind.OUTCOME_UNKNOWN);
    }

    /** This failure, after {@code host} had answered the request with a redirect. */
    Failed afterTheTargetAnswered(String host) {
      return kind == Kind.OUTCOME_UNKNOWN ? this : outcomeUnknown("outcome unknown: " + host
          + " received the request and answered with a redirect, then following it failed: " + getMessage());
    }

    /** The outcome the model reads, its message passed through {@code redact}. */
    ToolOutcome outcome(UnaryOperator<String> redact) {
      String message = redact.apply(getMessage());
      return switch (kind) {
        case PERMANENT -> ToolOutcome.error(message, null, 0);
        case TRANSIENT -> ToolOutcome.transientError(message, null, 0);
        case OUTCOME_UNKNOWN -> ToolOutcome.unknown(message, null, 0);
      };
    }
  }

  /** A response this runner refuses to use (e.g. binary content for a text-only tool). */
  private static final class NotFollowable extends IOException {
    NotFollowable(String message) {
      super(message);
    }
  }
}
