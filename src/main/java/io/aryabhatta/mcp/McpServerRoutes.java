package io.aryabhatta.mcp;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code /api/mcp_servers}: MCP servers whose tools are imported as {@code mcp} tools. */
public final class McpServerRoutes {
  private final McpServerService servers;
  private final JsonBody body;
  private final Idempotency idempotency;

  public McpServerRoutes(McpServerService servers, JsonBody body, Idempotency idempotency) {
    this.servers = servers;
    this.body = body;
    this.idempotency = idempotency;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/mcp_servers", idempotency.wrap(this::create));
    routes.get("/api/mcp_servers", this::list);
    routes.get("/api/mcp_servers/{id}", this::get);
    routes.delete("/api/mcp_servers/{id}", this::delete);
    routes.post("/api/mcp_servers/{id}/refresh", this::refresh);
  }

  private void create(Context ctx) {
    McpServerInput input = body.read(ctx, McpServerInput.class);
    ctx.status(201).json(servers.create(Auth.caller(ctx), input));
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(servers.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()),
        McpServerView::name));
  }

  private void get(Context ctx) {
    ctx.json(servers.view(Auth.caller(ctx).workspaceId(), ctx.pathParam("id")));
  }

  private void delete(Context ctx) {
    servers.delete(Auth.caller(ctx), ctx.pathParam("id"));
    ctx.status(204);
  }

  private void refresh(Context ctx) {
    ctx.json(servers.refresh(Auth.caller(ctx), ctx.pathParam("id")));
  }
}
