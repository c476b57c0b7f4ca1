package io.aryabhatta.usage;


import io.aryabhatta.errors.DomainException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.QueryParams;
import io.aryabhatta.http.Page;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code GET /api/usage?group_by=run|conversation|agent|model|day&agent_id=&conversation_id=&since=&until=}. */
public final class UsageRoutes {
  private final UsageReport usage;

  public UsageRoutes(UsageReport usage) {
    this.usage = usage;
  }

  public void register(RoutesConfig routes) {
    routes.get("/api/usage", this::report);
  }

  private void report(Context ctx) {
    String groupBy = ctx.queryParam("group_by") == null ? "day" : ctx.queryParam("group_by");
    if (!UsageReport.GROUPS.contains(groupBy)) {
      throw new DomainException.ValidationFailed("group_by", "must be one of run, conversation, agent, model, day");
    }
    var filter = new UsageReport.Filter(groupBy, ctx.queryParam("agent_id"), ctx.queryParam("conversation_id"),
        QueryParams.instant(ctx, "since"), QueryParams.instant(ctx, "until"));
    ctx.json(new Page<>(usage.report(Auth.caller(ctx).workspaceId(), filter), null));
  }
}
