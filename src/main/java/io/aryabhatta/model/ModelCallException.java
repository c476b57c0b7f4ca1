package io.aryabhatta.model;

import java.util.List;

/**
 * A model call that failed, one subclass per failure mode so callers can switch on it.
 *
 * <p>The message is meant for people (run errors, logs): it names the provider, the HTTP status,
 * how many attempts were made and the provider's own error message. It never contains the API key.
 */
public sealed abstract class ModelCallException extends RuntimeException {
  private final String provider;
  private final Integer statusCode;
  private final String providerMessage;
  private final List<Attempt> attempts;

  private ModelCallException(Details details) {
    super(details.message(), details.cause());
    this.provider = details.provider();
    this.statusCode = details.statusCode();
    this.providerMessage = details.providerMessage();
    this.attempts = List.copyOf(details.attempts());
  }

  /** What is known about a failure when it is turned into an exception. */
  record Details(String message, String provider, Integer statusCode, String providerMessage,
      List<Attempt> attempts, Throwable cause) {}

  /** The failure mode in snake_case, e.g. {@code rate_limited}; stable, stored in run errors. */
  public abstract String kind();

  /** The provider's name as configured on the endpoint. */
  public String provider() {
    return provider;
  }

  /** The HTTP status (or the status an error event carried), or null when none was received. */
  public Integer statusCode() {
    return statusCode;
  }

  /** The provider's own error message, or null when it sent none. */
  public String providerMessage() {
    return providerMessage;
  }

  /** Every attempt made, in order, the failed last one included. */
  public List<Attempt> attempts() {
    return attempts;
  }

  /**
   * A failure of {@code kind} that a {@link ModelCaller} other than {@link ModelClient} reports (a
   * scripted one in tests of the loop), with no provider status or attempts recorded.
   */
  public static ModelCallException failure(FailureKind kind, String message) {
    return of(kind, new Details(message, null, null, null, List.of(), null));
  }

  static ModelCallException of(FailureKind kind, Details details) {
    return switch (kind) {
      case UNAUTHORIZED -> new Unauthorized(details);
      case PAYMENT_REQUIRED -> new PaymentRequired(details);
      case MODEL_NOT_FOUND -> new ModelNotFound(details);
      case REJECTED -> new Rejected(details);
      case RATE_LIMITED -> new RateLimited(details);
      case PROVIDER_UNAVAILABLE -> new ProviderUnavailable(details);
      case TIMEOUT -> new Timeout(details);
      case STREAM_INTERRUPTED -> new StreamInterrupted(details);
      case INVALID_RESPONSE -> new InvalidResponse(details);
      case CANCELLED -> new Cancelled(details);
    };
  }

  /** 401 or 403: the key is wrong, revoked or lacks a permission. */
  public static final class Unauthorized extends ModelCallException {
    Unauthorized(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.UNAUTHORIZED.wireName();
    }
  }

  /** 402, or OpenAI's 429 {@code insufficient_quota}: no credit left. Not retried. */
  public static final class PaymentRequired extends ModelCallException {
    PaymentRequired(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.PAYMENT_REQUIRED.wireName();
    }
  }

  /** 404, or a 400 saying the model is not supported: the provider does not serve this model. */
  public static final class ModelNotFound extends ModelCallException {
    ModelNotFound(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.MODEL_NOT_FOUND.wireName();
    }
  }

  /** 400 or 422 (or another 4xx): the provider refused the request; see {@link #providerMessage()}. */
  public static final class Rejected extends ModelCallException {
    Rejected(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.REJECTED.wireName();
    }
  }

  /** 429 on every attempt. */
  public static final class RateLimited extends ModelCallException {
    RateLimited(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.RATE_LIMITED.wireName();
    }
  }

  /** 5xx on every attempt, or the provider could not be reached. */
  public static final class ProviderUnavailable extends ModelCallException {
    ProviderUnavailable(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.PROVIDER_UNAVAILABLE.wireName();
    }
  }

  /** Connecting or waiting for the response took longer than the endpoint allows, on every attempt. */
  public static final class Timeout extends ModelCallException {
    Timeout(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.TIMEOUT.wireName();
    }
  }

  /** A stream was cut or reported an error after it started. */
  public static final class StreamInterrupted extends ModelCallException {
    StreamInterrupted(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.STREAM_INTERRUPTED.wireName();
    }
  }

  /** A successful status with a body that is not chat-completions JSON. */
  public static final class InvalidResponse extends ModelCallException {
    InvalidResponse(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.INVALID_RESPONSE.wireName();
    }
  }

  /** The calling thread was interrupted; the in-flight HTTP call was cancelled. */
  public static final class Cancelled extends ModelCallException {
    Cancelled(Details details) {
      super(details);
    }

    @Override
    public String kind() {
      return FailureKind.CANCELLED.wireName();
    }
  }
}
