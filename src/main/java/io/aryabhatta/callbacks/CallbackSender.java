package io.aryabhatta.callbacks;

import io.aryabhatta.callbacks.CallbackDeliveries.AttemptResult;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.AddressGuard.BlockedAddressException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Sends one attempt of a callback: a POST of the run's JSON, signed, through the address guard of
 * HTTP tools (every address a name resolves to is checked, and the connection goes only to those);
 * a redirect is not followed, and counts as a failed attempt.
 */
final class CallbackSender {
  private static final MediaType JSON = MediaType.get("application/json");

  private final OkHttpClient client;
  private final AddressGuard guard;
  private final Clock clock;

  CallbackSender(OkHttpClient base, AddressGuard guard, Duration attemptTimeout, Clock clock) {
    this.client = guard.guardedClient(base).callTimeout(attemptTimeout).build();
    this.guard = guard;
    this.clock = clock;
  }

  AttemptResult send(String url, String deliveryId, String body, String secret) {
    Instant startedAt = clock.instant();
    long started = System.nanoTime();
    HttpUrl target = HttpUrl.parse(url);
    if (target == null) {
      return new AttemptResult(startedAt, null, "not an http or https URL", 0);
    }
    long timestamp = startedAt.getEpochSecond();
    Request request = new Request.Builder().url(target)
        .header("User-Agent", "Aryabhatta-Callbacks")
        .header(CallbackSignature.DELIVERY_HEADER, deliveryId)
        .header(CallbackSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
        .header(CallbackSignature.HEADER, CallbackSignature.sign(secret, timestamp, body))
        .post(RequestBody.create(body, JSON))
        .build();
    try {
      guard.checkUrl(target);
      try (Response response = client.newCall(request).execute()) {
        int code = response.code();
        String error = code >= 300 && code < 400 ? "redirects are not followed" : null;
        return new AttemptResult(startedAt, code, error, millisSince(started));
      }
    } catch (IOException e) {
      return new AttemptResult(startedAt, null, why(e, target), millisSince(started));
    }
  }

  private static String why(IOException failure, HttpUrl target) {
    Throwable blocked = BlockedAddressException.in(failure);
    if (blocked != null) {
      return CallbackUrls.forCallbacks(blocked.getMessage());
    }
    return switch (failure) {
      case UnknownHostException e -> "cannot resolve " + target.host();
      case InterruptedIOException e -> "no answer within the attempt's timeout";
      default -> "the connection failed: " + failure.getMessage();
    };
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
