package io.aryabhatta.http;

import io.aryabhatta.errors.FieldError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Errors of the OpenAI-compatible API ({@code /v1}) in OpenAI's shape,
 * {@code {"error": {"message", "type", "param", "code"}}}, so that OpenAI SDKs raise their usual
 * exceptions (AuthenticationError, NotFoundError, BadRequestError, RateLimitError, …).
 */
public final class OpenAiErrors {
  /**
   * Tells OpenAI SDKs not to retry. A chat completion runs an agent whose tools may have side
   * effects, and the platform already retried its model calls, so a blind retry could repeat work.
   */
  public static final String NO_RETRY_HEADER = "x-should-retry";

  private OpenAiErrors() {}

  /** One error: what a client reads, and the status it comes with. */
  public record Error(int status, String message, String type, String param, String code) {
    public Map<String, Object> body() {
      Map<String, Object> error = new LinkedHashMap<>();
      error.put("message", message);
      error.put("type", type);
      error.put("param", param);
      error.put("code", code);
      return Map.of("error", error);
    }
  }

  static boolean applies(String path) {
    return path.equals("/v1") || path.startsWith("/v1/");
  }

  /** Validation problems are 400 here, as OpenAI answers them; other statuses stay. */
  static Error of(ApiException e) {
    int status = e.status() == 422 ? 400 : e.status();
    String code = switch (e.type()) {
      case "unauthorized" -> "invalid_api_key";
      case "rate-limited" -> "rate_limit_exceeded";
      default -> e.type().replace('-', '_');
    };
    List<FieldError> fields = e.errors();
    String param = fields.isEmpty() ? null : fields.get(0).field();
    String message = fields.size() > 1
        ? fields.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "))
        : e.detail();
    return new Error(status, message, type(status), param, code);
  }

  static Error internal(String requestId) {
    return new Error(500, "an unexpected error occurred; quote request id " + requestId + " when reporting it",
        "server_error", null, null);
  }

  /** OpenAI's {@code type} for a status. */
  public static String type(int status) {
    if (status == 429) {
      return "requests";
    }
    return status >= 500 ? "server_error" : "invalid_request_error";
  }
}
