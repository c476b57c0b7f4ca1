package io.aryabhatta.http;

import io.aryabhatta.workspaces.Caller;
import io.aryabhatta.workspaces.WorkspaceService;
import io.javalin.http.Context;

/** Resolves {@code Authorization: Bearer <key>} to a {@link Caller} before every API call. */
public final class Auth {
  private static final String ATTRIBUTE = "caller";

  private final WorkspaceService workspaces;
  private final RateLimiter rateLimiter;

  public Auth(WorkspaceService workspaces, RateLimiter rateLimiter) {
    this.workspaces = workspaces;
    this.rateLimiter = rateLimiter;
  }

  public void authenticate(Context ctx) {
    if (ctx.method().name().equals("OPTIONS")) {
      return;
    }
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      throw new ApiException.Unauthorized("send your API key as 'Authorization: Bearer <key>'");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      throw new ApiException.Unauthorized("the Authorization header must be 'Bearer <key>'");
    }
    Caller caller = workspaces.authenticate(header.substring(7).strip())
        .orElseThrow(() -> new ApiException.Unauthorized("the API key is invalid or has been revoked"));
    rateLimiter.acquire(caller.keyId());
    ctx.attribute(ATTRIBUTE, caller);
  }

  public static Caller caller(Context ctx) {
    Caller caller = ctx.attribute(ATTRIBUTE);
    if (caller == null) {
      throw new ApiException.Unauthorized("this route needs an API key");
    }
    return caller;
  }

  public static Caller admin(Context ctx) {
    Caller caller = caller(ctx);
    if (!caller.admin()) {
      throw new ApiException.Forbidden("only the admin key may manage workspaces and keys");
    }
    return caller;
  }
}
