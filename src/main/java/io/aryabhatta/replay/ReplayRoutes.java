package io.aryabhatta.replay;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** Replaying an ended run against today's agent and code, and forking it from one of its steps. */
public final class ReplayRoutes {
  private final RunReplay replays;
  private final RunFork forks;
  private final JsonBody body;
  private final Idempotency idempotency;

  public ReplayRoutes(RunReplay replays, RunFork forks, JsonBody body, Idempotency idempotency) {
    this.replays = replays;
    this.forks = forks;
    this.body = body;
    this.idempotency = idempotency;
  }

  record ReplayRequest(String agentVersion) {}

  record ForkRequest(Integer fromStep, JsonNode agentOverrides, String callbackUrl) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/runs/{id}/replay", this::replay);
    routes.post("/api/runs/{id}/fork", idempotency.wrap(this::fork));
  }

  private void replay(Context ctx) {
    ReplayRequest request = body.readOrDefault(ctx, ReplayRequest.class, null);
    String version = request == null || request.agentVersion() == null ? "latest" : request.agentVersion();
    if (!version.equals("latest") && !version.equals("pinned")) {
      throw new DomainException.ValidationFailed("agent_version", "must be \"pinned\" (the run's version) or"
          + " \"latest\" (today's version of the agent)");
    }
    ctx.json(replays.replay(Auth.caller(ctx), ctx.pathParam("id"), version.equals("latest")));
  }

  private void fork(Context ctx) {
    ForkRequest request = body.readOrDefault(ctx, ForkRequest.class, null);
    if (request == null) {
      request = new ForkRequest(null, null, null);
    }
    ctx.status(201).json(forks.fork(Auth.caller(ctx), ctx.pathParam("id"), request.fromStep(),
        request.agentOverrides(), request.callbackUrl()));
  }
}
