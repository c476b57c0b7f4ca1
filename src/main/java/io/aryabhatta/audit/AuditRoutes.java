package io.aryabhatta.audit;


import io.aryabhatta.errors.DomainException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.QueryParams;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

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
        throw new DomainException.ValidationFailed("after", "is not a cursor returned by this API");
      }
    }
    var filter = new AuditLog.Filter(
        ctx.queryParam("resource_type"),
        ctx.queryParam("resource_id"),
        ctx.queryParam("action"),
        QueryParams.instant(ctx, "since"),
        QueryParams.instant(ctx, "until"));
    var rows = audit.list(Auth.caller(ctx).workspaceId(), filter, after, page.fetchSize());
    ctx.json(page.page(rows, e -> Long.toString(e.id())));
  }
}
