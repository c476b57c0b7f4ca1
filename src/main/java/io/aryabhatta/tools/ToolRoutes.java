package io.aryabhatta.tools;


import io.aryabhatta.errors.DomainException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code /api/tools}: the workspace's tools, with the read-only built-ins. */
public final class ToolRoutes {
  private final ToolService tools;
  private final JsonBody body;
  private final Idempotency idempotency;

  public ToolRoutes(ToolService tools, JsonBody body, Idempotency idempotency) {
    this.tools = tools;
    this.body = body;
    this.idempotency = idempotency;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/tools", idempotency.wrap(this::create));
    routes.get("/api/tools", this::list);
    routes.get("/api/tools/{id}", this::get);
    routes.patch("/api/tools/{id}", this::update);
    routes.delete("/api/tools/{id}", this::delete);
  }

  private void create(Context ctx) {
    ToolInput input = body.read(ctx, ToolInput.class);
    ctx.status(201).json(tools.create(Auth.caller(ctx), input));
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(tools.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()), ToolView::name));
  }

  private void get(Context ctx) {
    ctx.json(tools.view(Auth.caller(ctx).workspaceId(), ctx.pathParam("id")));
  }

  private void update(Context ctx) {
    allowOnlyGetOnBuiltins(ctx);
    body.read(ctx, ToolInput.class); // rejects unknown fields and wrong types before merging
    ctx.json(tools.update(Auth.caller(ctx), ctx.pathParam("id"), body.tree(ctx)));
  }

  private void delete(Context ctx) {
    allowOnlyGetOnBuiltins(ctx);
    tools.delete(Auth.caller(ctx), ctx.pathParam("id"));
    ctx.status(204);
  }

  /** Built-ins are read-only: 405 with {@code Allow: GET}, before the body is even read. */
  private static void allowOnlyGetOnBuiltins(Context ctx) {
    if (BuiltinTools.isBuiltinId(ctx.pathParam("id"))) {
      ctx.header("Allow", "GET");
      throw new DomainException.ReadOnly("built-in tools are read-only");
    }
  }
}
