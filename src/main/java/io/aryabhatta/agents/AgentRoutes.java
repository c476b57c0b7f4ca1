package io.aryabhatta.agents;


import io.aryabhatta.errors.DomainException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code /api/agents}: agents and their immutable versions. */
public final class AgentRoutes {
  private final AgentService agents;
  private final JsonBody body;
  private final Idempotency idempotency;

  public AgentRoutes(AgentService agents, JsonBody body, Idempotency idempotency) {
    this.agents = agents;
    this.body = body;
    this.idempotency = idempotency;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/agents", idempotency.wrap(this::create));
    routes.get("/api/agents", this::list);
    routes.get("/api/agents/{id}", this::get);
    routes.patch("/api/agents/{id}", this::update);
    routes.delete("/api/agents/{id}", this::delete);
    routes.get("/api/agents/{id}/versions", this::versions);
    routes.get("/api/agents/{id}/versions/{version}", this::version);
  }

  private void create(Context ctx) {
    AgentInput input = body.read(ctx, AgentInput.class);
    ctx.status(201).json(agents.create(Auth.caller(ctx), input));
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(agents.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()), AgentView::id));
  }

  private void get(Context ctx) {
    ctx.json(agents.view(Auth.caller(ctx).workspaceId(), ctx.pathParam("id")));
  }

  private void update(Context ctx) {
    body.read(ctx, AgentInput.class); // rejects unknown fields and wrong types before merging
    ctx.json(agents.update(Auth.caller(ctx), ctx.pathParam("id"), body.tree(ctx)));
  }

  private void delete(Context ctx) {
    agents.delete(Auth.caller(ctx), ctx.pathParam("id"));
    ctx.status(204);
  }

  private void versions(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    Integer after = page.after() == null ? null : versionNumber(page.after(), "after");
    var versions = agents.versions(Auth.caller(ctx).workspaceId(), ctx.pathParam("id"), after, page.fetchSize());
    ctx.json(page.page(versions, v -> Integer.toString(v.version())));
  }

  private void version(Context ctx) {
    int version;
    try {
      version = Integer.parseInt(ctx.pathParam("version"));
    } catch (NumberFormatException e) {
      throw new DomainException.NotFound("no version '" + ctx.pathParam("version") + "'");
    }
    ctx.json(agents.versionView(Auth.caller(ctx).workspaceId(), ctx.pathParam("id"), version));
  }

  private static int versionNumber(String text, String field) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new DomainException.ValidationFailed(field, "is not a cursor returned by this API");
    }
  }
}
