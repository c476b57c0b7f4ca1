package io.aryabhatta.http;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import java.util.List;

/**
 * A request the HTTP API refuses, rendered as RFC 9457 problem JSON. One subclass per failure of
 * the HTTP layer itself (authentication, body, routing, rate limits); a {@link DomainException}
 * from a service becomes one through {@link #from(DomainException)}, the one place that gives the
 * domain's refusals their statuses. Messages never carry internals.
 */
public abstract sealed class ApiException extends RuntimeException {
  private final int status;
  private final String type;
  private final String title;

  ApiException(int status, String type, String title, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.type = type;
    this.title = title;
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return getMessage();
  }

  public List<FieldError> errors() {
    return List.of();
  }

  public static final class BadRequest extends ApiException {
    public BadRequest(String detail) {
      super(400, "bad-request", "Bad request", detail);
    }
  }

  public static final class MalformedJson extends ApiException {
    public MalformedJson(String detail) {
      super(400, "malformed-json", "Malformed JSON", detail);
    }
  }

  public static final class Unauthorized extends ApiException {
    public Unauthorized(String detail) {
      super(401, "unauthorized", "Unauthorized", detail);
    }
  }

  public static final class Forbidden extends ApiException {
    public Forbidden(String detail) {
      super(403, "forbidden", "Forbidden", detail);
    }
  }

  public static final class NotFound extends ApiException {
    public NotFound(String detail) {
      super(404, "not-found", "Not found", detail);
    }

    public static NotFound of(String resource, String id) {
      return new NotFound("no " + resource + " with id '" + id + "'");
    }
  }

  public static final class MethodNotAllowed extends ApiException {
    public MethodNotAllowed(String detail) {
      super(405, "method-not-allowed", "Method not allowed", detail);
    }
  }

  public static final class PayloadTooLarge extends ApiException {
    public PayloadTooLarge(long limit) {
      super(413, "payload-too-large", "Payload too large", "the request body is larger than " + limit + " bytes");
    }
  }

  public static final class UnsupportedMediaType extends ApiException {
    public UnsupportedMediaType(String detail) {
      super(415, "unsupported-media-type", "Unsupported media type", detail);
    }
  }

  public static final class RateLimited extends ApiException {
    private final long retryAfterSeconds;

    public RateLimited(long retryAfterSeconds) {
      super(429, "rate-limited", "Too many requests", "rate limit exceeded; retry after " + retryAfterSeconds + " s");
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  public static final class Unavailable extends ApiException {
    public Unavailable(String detail) {
      super(503, "unavailable", "Service unavailable", detail);
    }
  }

  /** A service's refusal as the HTTP API answers it. */
  public static final class Refused extends ApiException {
    private final List<FieldError> errors;

    private Refused(int status, String type, String title, DomainException e) {
      super(status, type, title, e.detail());
      this.errors = e.errors();
    }

    @Override
    public List<FieldError> errors() {
      return errors;
    }
  }

  public static ApiException from(DomainException e) {
    return switch (e) {
      case DomainException.NotFound n -> new Refused(404, "not-found", "Not found", n);
      case DomainException.ModelNotFound m -> new Refused(404, "model-not-found", "Model not found", m);
      case DomainException.ReadOnly r -> new Refused(405, "method-not-allowed", "Method not allowed", r);
      case DomainException.Conflict c -> new Refused(409, "conflict", "Conflict", c);
      case DomainException.InvalidRequest i -> new Refused(400, "bad-request", "Bad request", i);
      case DomainException.ValidationFailed v -> new Refused(422, "validation-failed", "Validation failed", v);
      case DomainException.Unprocessable u -> new Refused(422, u.code(), "Unprocessable request", u);
      case DomainException.UpstreamFailed u -> new Refused(502, "bad-gateway", "Bad gateway", u);
    };
  }
}
