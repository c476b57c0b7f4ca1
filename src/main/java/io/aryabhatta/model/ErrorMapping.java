package io.aryabhatta.model;

import java.time.Duration;

/** Turns an HTTP status and the provider's error into a {@link Failure}: which kind, retry or not. */
final class ErrorMapping {
  private ErrorMapping() {}

  static Failure forStatus(int status, ProviderError error, Duration retryAfter) {
    String detail = "HTTP " + status + (error.message() == null ? "" : ": " + error.message());
    FailureKind kind = kindOf(status, error);
    boolean retryable = switch (kind) {
      case RATE_LIMITED, PROVIDER_UNAVAILABLE, TIMEOUT -> true;
      default -> false;
    };
    return new Failure(kind, status, error.message(), detail, retryable, retryAfter, null);
  }

  private static FailureKind kindOf(int status, ProviderError error) {
    if (status == 401 || status == 403) {
      return FailureKind.UNAUTHORIZED;
    }
    if (status == 402) {
      return FailureKind.PAYMENT_REQUIRED;
    }
    if (status == 429) {
      // OpenAI reports an exhausted balance as 429 insufficient_quota; waiting will not fix it.
      return error.isInsufficientQuota() ? FailureKind.PAYMENT_REQUIRED : FailureKind.RATE_LIMITED;
    }
    if (status == 404) {
      return FailureKind.MODEL_NOT_FOUND;
    }
    if (status == 408) {
      return FailureKind.TIMEOUT;
    }
    if (status >= 500) {
      return FailureKind.PROVIDER_UNAVAILABLE;
    }
    if (status >= 400) {
      // The HF router answers 400 model_not_supported for a model none of the user's providers serve.
      return error.saysModelIsUnknown() ? FailureKind.MODEL_NOT_FOUND : FailureKind.REJECTED;
    }
    return FailureKind.INVALID_RESPONSE;
  }

  /**
   * An error sent inside a successful stream (TGI {@code data: {"error":…}}, Groq {@code event:
   * error}). With a status it maps like an HTTP error; TGI's {@code error_type} says what it was.
   */
  static Failure forErrorEvent(ProviderError error) {
    if (error.statusCode() != null && error.statusCode() >= 400) {
      return forStatus(error.statusCode(), error, null);
    }
    String type = error.type() == null ? "" : error.type();
    return switch (type) {
      case "overloaded" -> Failure.of(FailureKind.RATE_LIMITED, null, error.message(),
          "error event: overloaded", true);
      case "validation" -> Failure.of(FailureKind.REJECTED, null, error.message(),
          "error event: validation", false);
      default -> Failure.of(FailureKind.STREAM_INTERRUPTED, null, error.message(),
          "error event" + (error.message() == null ? "" : ": " + error.message()), true);
    };
  }
}
