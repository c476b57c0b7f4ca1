package io.aryabhatta.audit;

import io.aryabhatta.http.ApiException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** {@code GET /api/audit}: the workspace's audit log, filtered by resource, action and time. */
public final class AuditRoutes {
  private final AuditLog audit;

  public AuditRoutes(AuditLog audit) {
    this.audit = audit;
  }

  public void register(RoutesConfig routes) {
    routes.get("/api/audit", this::list);
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    Long after = null;
    if (page.after() != null) {
      try {
        after = Long.parseLong(page.after());
      } catch (NumberFormatException e) {
        throw new ApiException.ValidationFailed("after", "is not a cursor returned by this API");
      }
    }
    var filter = new AuditLog.Filter(
        ctx.queryParam("resource_type"),
        ctx.queryParam("resource_id"),
        ctx.queryParam("action"),
        instant(ctx, "since"),
        instant(ctx, "until"));
    var rows = audit.list(Auth.caller(ctx).workspaceId(), filter, after, page.fetchSize());
    ctx.json(page.page(rows, e -> Long.toString(e.id())));
  }

  private static Instant instant(Context ctx, String name) {
    String value = ctx.queryParam(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new ApiException.ValidationFailed(name, "must be an RFC 3339 UTC timestamp such as 2026-01-31T12:00:00Z");
    }
  }
}
