package io.aryabhatta.http;

import io.aryabhatta.errors.DomainException;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Typed query parameters with 422s that name the parameter. */
public final class QueryParams {
  private QueryParams() {}

  /** An RFC 3339 UTC timestamp, or null when absent. */
  public static Instant instant(Context ctx, String name) {
    String value = ctx.queryParam(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new DomainException.ValidationFailed(name, "must be an RFC 3339 UTC timestamp such as 2026-01-31T12:00:00Z");
    }
  }
}
