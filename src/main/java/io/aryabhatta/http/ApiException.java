package io.aryabhatta.http;

import java.util.List;

/**
 * A request the API refuses, rendered as RFC 9457 problem JSON. One subclass per failure mode;
 * their messages are written for the API's users and never carry internals.
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

  public record FieldError(String field, String message) {}

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

  /** The OpenAI-compatible API's {@code model} names no live agent of the caller's workspace. */
  public static final class ModelNotFound extends ApiException {
    public ModelNotFound(String model) {
      super(404, "model-not-found", "Model not found",
          "The model '" + model + "' does not exist: no agent of this workspace has that name");
    }
  }

  public static final class MethodNotAllowed extends ApiException {
    public MethodNotAllowed(String detail) {
      super(405, "method-not-allowed", "Method not allowed", detail);
    }
  }

  public static final class Conflict extends ApiException {
    public Conflict(String detail) {
      super(409, "conflict", "Conflict", detail);
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

  public static final class ValidationFailed extends ApiException {
    private final List<FieldError> errors;

    public ValidationFailed(List<FieldError> errors) {
      super(422, "validation-failed", "Validation failed", summary(errors));
      this.errors = List.copyOf(errors);
    }

    public ValidationFailed(String field, String message) {
      this(List.of(new FieldError(field, message)));
    }

    private static String summary(List<FieldError> errors) {
      return errors.size() == 1
          ? errors.get(0).field() + ": " + errors.get(0).message()
          : errors.size() + " fields are invalid";
    }

    @Override
    public List<FieldError> errors() {
      return errors;
    }
  }

  public static final class Unprocessable extends ApiException {
    public Unprocessable(String type, String detail) {
      super(422, type, "Unprocessable request", detail);
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

  /** An upstream service (a model provider, a tool's target) failed or could not be reached. */
  public static final class BadGateway extends ApiException {
    public BadGateway(String detail) {
      super(502, "bad-gateway", "Bad gateway", detail);
    }
  }

  public static final class Unavailable extends ApiException {
    public Unavailable(String detail) {
      super(503, "unavailable", "Service unavailable", detail);
    }
  }
}
