package io.aryabhatta.errors;

import java.util.List;

/**
 * A request the platform refuses, said in the platform's own terms: what was missing, invalid or
 * in conflict. Services and the engine throw these; the HTTP layer alone decides which status and
 * problem type each one becomes, and an embedding application catches them directly. Messages are
 * written for the platform's users and never carry internals.
 */
public abstract sealed class DomainException extends RuntimeException {
  private DomainException(String detail) {
    super(detail, null, false, false);
  }

  public String detail() {
    return getMessage();
  }

  /** The fields at fault, when the refusal is about the request's fields. */
  public List<FieldError> errors() {
    return List.of();
  }

  /** Nothing of that kind, with that id or name, exists in the caller's workspace. */
  public static final class NotFound extends DomainException {
    public NotFound(String detail) {
      super(detail);
    }

    public static NotFound of(String resource, String id) {
      return new NotFound("no " + resource + " with id '" + id + "'");
    }
  }

  /** The OpenAI-compatible API's {@code model} names no live agent of the caller's workspace. */
  public static final class ModelNotFound extends DomainException {
    public ModelNotFound(String model) {
      super("The model '" + model + "' does not exist: no agent of this workspace has that name");
    }
  }

  /** The request is valid but contradicts what is stored (a taken name, a run in another state). */
  public static final class Conflict extends DomainException {
    public Conflict(String detail) {
      super(detail);
    }
  }

  /** The resource is managed by the platform and cannot be changed through the API. */
  public static final class ReadOnly extends DomainException {
    public ReadOnly(String detail) {
      super(detail);
    }
  }

  /** The request as a whole has the wrong shape (not a single field's fault). */
  public static final class InvalidRequest extends DomainException {
    public InvalidRequest(String detail) {
      super(detail);
    }
  }

  /** One or more fields of the request are invalid. */
  public static final class ValidationFailed extends DomainException {
    private final List<FieldError> errors;

    public ValidationFailed(List<FieldError> errors) {
      super(summary(errors));
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

  /** The request is well formed but cannot be carried out; {@code code} names why. */
  public static final class Unprocessable extends DomainException {
    private final String code;

    public Unprocessable(String code, String detail) {
      super(detail);
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  /** A service the platform depends on (a model provider, an MCP server) failed or was unreachable. */
  public static final class UpstreamFailed extends DomainException {
    public UpstreamFailed(String detail) {
      super(detail);
    }
  }
}
