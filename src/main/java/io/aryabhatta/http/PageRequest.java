package io.aryabhatta.http;

import io.aryabhatta.errors.DomainException;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * {@code ?limit=} (default 50, at most 200) and {@code ?after=<cursor>}. A cursor is the opaque
 * encoding of the last key of the previous page.
 */
public record PageRequest(int limit, String after) {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;

  public static PageRequest from(Context ctx) {
    String cursor = ctx.queryParam("after");
    return new PageRequest(limit(ctx), cursor == null || cursor.isEmpty() ? null : decode(cursor));
  }

  /** Only {@code ?limit=}, for lists whose {@code after} is a plain position (e.g. an event id). */
  public static int limit(Context ctx) {
    String limitText = ctx.queryParam("limit");
    int limit = DEFAULT_LIMIT;
    if (limitText != null) {
      try {
        limit = Integer.parseInt(limitText);
      } catch (NumberFormatException e) {
        throw new DomainException.ValidationFailed("limit", "must be an integer between 1 and " + MAX_LIMIT);
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new DomainException.ValidationFailed("limit", "must be an integer between 1 and " + MAX_LIMIT);
      }
    }
    return limit;
  }

  /** Fetch one more row than asked to know whether another page follows. */
  public int fetchSize() {
    return limit + 1;
  }

  public <T> Page<T> page(List<T> rows, Function<T, String> key) {
    if (rows.size() <= limit) {
      return new Page<>(rows, null);
    }
    List<T> data = rows.subList(0, limit);
    return new Page<>(List.copyOf(data), encode(key.apply(data.get(limit - 1))));
  }

  public static String encode(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String cursor) {
    try {
      return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new DomainException.ValidationFailed("after", "is not a cursor returned by this API");
    }
  }
}
