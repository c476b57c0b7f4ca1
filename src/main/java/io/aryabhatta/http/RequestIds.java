package io.aryabhatta.http;

import io.javalin.http.Context;
import java.util.UUID;
import java.util.regex.Pattern;

/** Gives every request an id, taken from a sane incoming {@code X-Request-Id} or made up. */
public final class RequestIds {
  public static final String HEADER = "X-Request-Id";
  private static final String ATTRIBUTE = "request-id";
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private RequestIds() {}

  public static void assign(Context ctx) {
    String incoming = ctx.header(HEADER);
    String id = incoming != null && SAFE.matcher(incoming).matches() ? incoming : UUID.randomUUID().toString();
    ctx.attribute(ATTRIBUTE, id);
    ctx.header(HEADER, id);
  }

  public static String of(Context ctx) {
    String id = ctx.attribute(ATTRIBUTE);
    return id == null ? "-" : id;
  }
}
