package io.aryabhatta.secrets;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** {@code /api/secrets}: write-only values; only names and timestamps are ever returned. */
public final class SecretRoutes {
  private final SecretService secrets;
  private final JsonBody body;
  private final Idempotency idempotency;

  public SecretRoutes(SecretService secrets, JsonBody body, Idempotency idempotency) {
    this.secrets = secrets;
    this.body = body;
    this.idempotency = idempotency;
  }

  record PutSecret(String name, String value) {
    @Override
    public String toString() {
      return "PutSecret[name=" + name + ", value=***]";
    }
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/secrets", idempotency.wrap(this::put));
    routes.get("/api/secrets", this::list);
    routes.delete("/api/secrets/{name}", this::delete);
  }

  private void put(Context ctx) {
    PutSecret request = body.read(ctx, PutSecret.class);
    SecretService.Saved saved = secrets.put(Auth.caller(ctx), request.name(), request.value());
    ctx.status(saved.created() ? 201 : 200).json(saved.secret());
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(secrets.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()), Secret::name));
  }

  private void delete(Context ctx) {
    secrets.delete(Auth.caller(ctx), ctx.pathParam("name"));
    ctx.status(204);
  }
}
