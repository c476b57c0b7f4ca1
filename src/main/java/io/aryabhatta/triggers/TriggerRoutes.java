package io.aryabhatta.triggers;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code /api/triggers}: webhook and schedule triggers of the caller's workspace. */
public final class TriggerRoutes {
  private final TriggerService triggers;
  private final JsonBody body;
  private final Idempotency idempotency;

  public TriggerRoutes(TriggerService triggers, JsonBody body, Idempotency idempotency) {
    this.triggers = triggers;
    this.body = body;
    this.idempotency = idempotency;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/triggers", idempotency.wrap(this::create, "secret"));
    routes.get("/api/triggers", this::list);
    routes.get("/api/triggers/{id}", ctx -> ctx.json(triggers.view(Auth.caller(ctx), ctx.pathParam("id"))));
    routes.patch("/api/triggers/{id}", this::update);
    routes.delete("/api/triggers/{id}", this::delete);
    routes.post("/api/triggers/{id}/pause", ctx -> ctx.json(triggers.pause(Auth.caller(ctx), ctx.pathParam("id"))));
    routes.post("/api/triggers/{id}/resume",
        ctx -> ctx.json(triggers.resume(Auth.caller(ctx), ctx.pathParam("id"))));
  }

  private void create(Context ctx) {
    TriggerInput input = body.read(ctx, TriggerInput.class);
    ctx.status(201).json(triggers.create(Auth.caller(ctx), input));
  }

  private void update(Context ctx) {
    TriggerPatch patch = TriggerPatch.parse(body.tree(ctx));
    ctx.json(triggers.update(Auth.caller(ctx), ctx.pathParam("id"), patch));
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(triggers.list(Auth.caller(ctx), page.after(), page.fetchSize()), TriggerView::id));
  }

  private void delete(Context ctx) {
    triggers.delete(Auth.caller(ctx), ctx.pathParam("id"));
    ctx.status(204);
  }
}
