package io.aryabhatta.http;

import io.aryabhatta.errors.FieldError;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps every failure, in one place, to {@code application/problem+json}; under {@code /v1} to
 * OpenAI's error shape instead ({@link OpenAiErrors}).
 */
public final class Problems {
  private static final Logger log = LoggerFactory.getLogger(Problems.class);
  static final String WRITTEN = "problem-written";

  private final ObjectMapper mapper;

  public Problems(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  public void register(RoutesConfig routes) {
    routes.exception(ApiException.class, (e, ctx) -> write(ctx, e));
    routes.exception(DomainException.class, (e, ctx) -> write(ctx, ApiException.from(e)));
    routes.exception(HttpResponseException.class, (e, ctx) -> write(ctx, fromJavalin(e, ctx)));
    // The pool had no connection within its timeout: the server is overloaded, not broken.
    routes.exception(org.jdbi.v3.core.ConnectionException.class, (e, ctx) -> {
      ctx.header("Retry-After", "1");
      write(ctx, new ApiException.Unavailable("the database is busy; retry shortly"));
    });
    routes.exception(Exception.class, (e, ctx) -> {
      log.error("Unhandled error in {} {} (request {})", ctx.method(), ctx.path(), RequestIds.of(ctx), e);
      writeInternalError(ctx);
    });
    routes.error(404, ctx -> {
      if (ctx.attribute(WRITTEN) == null) {
        write(ctx, new ApiException.NotFound("no route " + ctx.method() + " " + ctx.path()));
      }
    });
    routes.error(405, ctx -> {
      if (ctx.attribute(WRITTEN) == null) {
        write(ctx, new ApiException.MethodNotAllowed(ctx.method() + " is not allowed on " + ctx.path()));
      }
    });
  }

  private static ApiException fromJavalin(HttpResponseException e, Context ctx) {
    return switch (e.getStatus()) {
      // With static files served at "/", an unmatched path arrives here rather than at error(404).
      case 404 -> new ApiException.NotFound("no route " + ctx.method() + " " + ctx.path());
      case 405 -> new ApiException.MethodNotAllowed("this method is not allowed on this path");
      case 413 -> new ApiException.PayloadTooLarge(-1);
      case 415 -> new ApiException.UnsupportedMediaType(e.getMessage());
      default -> new ApiException.BadRequest(e.getMessage());
    };
  }

  public void write(Context ctx, ApiException e) {
    // Under /v1 a refusal is answered in OpenAI's shape, and its status may differ (422 is 400):
    // the log says the status sent.
    OpenAiErrors.Error openAi = OpenAiErrors.applies(ctx.path()) ? OpenAiErrors.of(e) : null;
    int status = openAi != null ? openAi.status() : e.status();
    if (status >= 500) {
      log.error("{} {} -> {} {} (request {})", ctx.method(), ctx.path(), status, e.detail(), RequestIds.of(ctx));
    } else {
      log.warn("{} {} -> {} {}", ctx.method(), ctx.path(), status, e.detail());
    }
    if (e instanceof ApiException.RateLimited limited) {
      ctx.header("Retry-After", Long.toString(limited.retryAfterSeconds()));
    }
    if (openAi != null) {
      sendOpenAi(ctx, openAi);
      return;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "https://aryabhatta.dev/problems/" + e.type());
    body.put("title", e.title());
    body.put("status", e.status());
    body.put("detail", e.detail());
    body.put("instance", ctx.path());
    body.put("request_id", RequestIds.of(ctx));
    List<FieldError> errors = e.errors();
    if (!errors.isEmpty()) {
      body.put("errors", errors);
    }
    send(ctx, e.status(), body);
  }

  private void writeInternalError(Context ctx) {
    if (OpenAiErrors.applies(ctx.path())) {
      sendOpenAi(ctx, OpenAiErrors.internal(RequestIds.of(ctx)));
      return;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "https://aryabhatta.dev/problems/internal-error");
    body.put("title", "Internal server error");
    body.put("status", 500);
    body.put("detail", "an unexpected error occurred; quote the request id when reporting it");
    body.put("request_id", RequestIds.of(ctx));
    send(ctx, 500, body);
  }

  private void sendOpenAi(Context ctx, OpenAiErrors.Error error) {
    ctx.attribute(WRITTEN, true);
    ctx.status(error.status());
    ctx.contentType("application/json");
    ctx.result(Json.write(mapper, error.body()));
  }

  private void send(Context ctx, int status, Map<String, Object> body) {
    ctx.attribute(WRITTEN, true);
    ctx.status(status);
    ctx.contentType("application/problem+json");
    ctx.result(Json.write(mapper, body));
  }
}
