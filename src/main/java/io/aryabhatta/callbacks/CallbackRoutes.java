package io.aryabhatta.callbacks;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** A run's callback delivery, and the workspace's signing secret. */
public final class CallbackRoutes {
  private final Callbacks callbacks;
  private final RunService runs;

  public CallbackRoutes(Callbacks callbacks, RunService runs) {
    this.callbacks = callbacks;
    this.runs = runs;
  }

  public void register(RoutesConfig routes) {
    routes.get("/api/runs/{id}/callback", this::delivery);
    // Not under an Idempotency-Key: a replayed answer would have to keep the secret to repeat it.
    routes.post("/api/callback_secret", this::rotateSecret);
  }

  private void delivery(Context ctx) {
    Caller caller = Auth.caller(ctx);
    Run run = runs.run(caller, ctx.pathParam("id"));
    if (run.callbackUrl() == null) {
      throw new DomainException.NotFound("run " + run.id() + " has no callback_url");
    }
    CallbackDelivery delivery = callbacks.deliveries().ofRun(caller.workspaceId(), run.id())
        .orElseThrow(() -> new DomainException.NotFound(
            "run " + run.id() + " has not ended yet; its callback is sent when it does"));
    ctx.json(delivery);
  }

  private void rotateSecret(Context ctx) {
    ctx.status(201).json(callbacks.secrets().rotate(Auth.caller(ctx)));
  }
}
