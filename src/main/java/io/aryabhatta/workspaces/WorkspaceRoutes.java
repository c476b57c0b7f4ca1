package io.aryabhatta.workspaces;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** Admin routes: workspaces and their keys. */
public final class WorkspaceRoutes {
  private final WorkspaceService workspaces;
  private final JsonBody body;
  private final Idempotency idempotency;

  public WorkspaceRoutes(WorkspaceService workspaces, JsonBody body, Idempotency idempotency) {
    this.workspaces = workspaces;
    this.body = body;
    this.idempotency = idempotency;
  }

  record CreateWorkspace(String name) {}

  record CreateKey(String name) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/workspaces", idempotency.wrap(this::create));
    routes.get("/api/workspaces", this::list);
    routes.get("/api/workspaces/{id}", this::get);
    routes.post("/api/workspaces/{id}/keys", idempotency.wrap(this::createKey, "key"));
    routes.get("/api/workspaces/{id}/keys", this::listKeys);
    routes.delete("/api/keys/{id}", this::revokeKey);
  }

  private void create(Context ctx) {
    Caller admin = Auth.admin(ctx);
    CreateWorkspace request = body.read(ctx, CreateWorkspace.class);
    ctx.status(201).json(workspaces.createWorkspace(admin, request.name()));
  }

  private void list(Context ctx) {
    Auth.admin(ctx);
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(workspaces.listWorkspaces(page.after(), page.fetchSize()), Workspace::id));
  }

  private void get(Context ctx) {
    Auth.admin(ctx);
    ctx.json(workspaces.workspace(ctx.pathParam("id")));
  }

  private void createKey(Context ctx) {
    Caller admin = Auth.admin(ctx);
    CreateKey request = body.readOrDefault(ctx, CreateKey.class, new CreateKey(null));
    ctx.status(201).json(workspaces.createKey(admin, ctx.pathParam("id"), request.name()));
  }

  private void listKeys(Context ctx) {
    Auth.admin(ctx);
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(workspaces.listKeys(ctx.pathParam("id"), page.after(), page.fetchSize()), ApiKey::id));
  }

  private void revokeKey(Context ctx) {
    Caller admin = Auth.admin(ctx);
    ctx.json(workspaces.revokeKey(admin, ctx.pathParam("id")));
  }
}
