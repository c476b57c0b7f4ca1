package io.aryabhatta.model;

import java.time.Duration;
import java.util.List;

/**
 * Why one attempt failed, and whether another attempt may help.
 *
 * @param statusCode the status the exception reports (HTTP, or the one an error event carried)
 * @param providerMessage the provider's own words, or null
 * @param detail a short description for the attempt record, e.g. "HTTP 503: Loading model"
 * @param retryAfter how long the provider asked us to wait, or null
 */
record Failure(FailureKind kind, Integer statusCode, String providerMessage, String detail, boolean retryable,
    Duration retryAfter, Throwable cause) {

  static Failure of(FailureKind kind, Integer statusCode, String providerMessage, String detail, boolean retryable) {
    return new Failure(kind, statusCode, providerMessage, detail, retryable, null, null);
  }

  Failure withCause(Throwable cause) {
    return new Failure(kind, statusCode, providerMessage, detail, retryable, retryAfter, cause);
  }

  Failure withRetryAfter(Duration retryAfter) {
    return new Failure(kind, statusCode, providerMessage, detail, retryable, retryAfter, cause);
  }

  /**
   * The same failure once text already reached the caller: a retry would deliver that text again,
   * so what could have been retried becomes an interrupted stream.
   */
  Failure afterTextDelivered() {
    FailureKind finalKind = retryable ? FailureKind.STREAM_INTERRUPTED : kind;
    return new Failure(finalKind, statusCode, providerMessage, detail, false, null, cause);
  }

  /** Builds the exception the caller sees, with a message that never contains the API key. */
  ModelCallException toException(ModelEndpoint endpoint, String model, List<Attempt> attempts) {
    String message = Secrets.redact(summary(endpoint.provider(), model, attempts.size()), endpoint);
    String providerWords = Secrets.redact(providerMessage, endpoint);
    return ModelCallException.of(kind, new ModelCallException.Details(
        message, endpoint.provider(), statusCode, providerWords, attempts, cause));
  }

  private String summary(String provider, String model, int attemptCount) {
    String who = "model provider '" + provider + "'";
    String what = switch (kind) {
      case UNAUTHORIZED -> "The " + who + " refused the API key";
      case PAYMENT_REQUIRED -> "The " + who + " reports that the account has no credit left";
      case MODEL_NOT_FOUND -> model == null
          ? "The " + who + " did not find what was asked for"
          : "The " + who + " does not serve model '" + model + "'";
      case REJECTED -> "The " + who + " rejected the request";
      case RATE_LIMITED -> "The " + who + " is rate limiting the calls";
      case PROVIDER_UNAVAILABLE -> "The " + who + " is unavailable";
      case TIMEOUT -> "The " + who + " did not answer in time";
      case STREAM_INTERRUPTED -> "The response stream from the " + who + " was interrupted";
      case INVALID_RESPONSE -> "The " + who + " sent a response that is not valid chat-completions JSON";
      case CANCELLED -> "The call to the " + who + " was cancelled";
    };
    StringBuilder text = new StringBuilder(what);
    if (statusCode != null) {
      text.append(" (HTTP ").append(statusCode).append(')');
    }
    if (attemptCount > 1) {
      text.append(" after ").append(attemptCount).append(" attempts");
    }
    String because = providerMessage != null ? providerMessage : detail;
    if (because != null && !because.isBlank()) {
      text.append(": ").append(because);
    }
    return text.toString();
  }
}
