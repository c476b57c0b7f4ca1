package io.aryabhatta.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Lets pages served from other origins (a chat UI calling the API from the browser) use
 * {@code /api} and {@code /v1}: answers for an allowed {@code Origin} say so, and its preflights
 * are answered before authentication (a browser sends them without the key). Off unless origins
 * are configured ({@code ARYABHATTA_CORS_ORIGINS}); {@code *} allows any origin. The key travels in
 * the {@code Authorization} header, never in a cookie, so credentials are not allowed.
 */
public final class Cors {
  static final String METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
  static final String HEADERS = "authorization, content-type, idempotency-key, last-event-id";
  /** Response headers a page may read besides the simple ones. */
  static final String EXPOSED = "x-request-id, retry-after, location";
  private static final String PREFLIGHT_MAX_AGE_SECONDS = "600";
  /** A list of header names as a preflight asks for them (SDKs add their own, e.g. x-stainless-os). */
  private static final java.util.regex.Pattern HEADER_NAMES = java.util.regex.Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~, -]{1,2000}");

  private final Set<String> origins;
  private final boolean anyOrigin;

  public Cors(List<String> origins) {
    this.origins = Set.copyOf(origins);
    this.anyOrigin = origins.contains("*");
  }

  /** Registers the handler ahead of authentication; nothing when no origin is configured. */
  public void register(RoutesConfig routes) {
    if (!origins.isEmpty()) {
      routes.before(this::handle);
    }
  }

  private void handle(Context ctx) {
    String path = ctx.path();
    if (!(path.startsWith("/api/") || path.startsWith("/v1/"))) {
      return;
    }
    ctx.header("Vary", "Origin");
    String origin = ctx.header("Origin");
    if (origin == null || !(anyOrigin || origins.contains(origin.toLowerCase(Locale.ROOT)))) {
      return;
    }
    ctx.header("Access-Control-Allow-Origin", origin);
    ctx.header("Access-Control-Expose-Headers", EXPOSED);
    if (ctx.method() == HandlerType.OPTIONS && ctx.header("Access-Control-Request-Method") != null) {
      ctx.header("Access-Control-Allow-Methods", METHODS);
      // The headers asked for are allowed too: no credentials are ever allowed, so naming a
      // header grants nothing the key does not.
      String requested = ctx.header("Access-Control-Request-Headers");
      ctx.header("Access-Control-Allow-Headers", requested != null && HEADER_NAMES.matcher(requested).matches()
          ? HEADERS + ", " + requested.strip() : HEADERS);
      ctx.header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
      ctx.status(204);
      ctx.skipRemainingHandlers();
    }
  }
}
