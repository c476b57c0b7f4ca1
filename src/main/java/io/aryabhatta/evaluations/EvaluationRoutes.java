package io.aryabhatta.evaluations;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.Page;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** Evaluation cases of an agent, and evaluations (runs of every case) with their reports. */
public final class EvaluationRoutes {
  private final EvaluationService evaluations;
  private final JsonBody body;
  private final Idempotency idempotency;

  public EvaluationRoutes(EvaluationService evaluations, JsonBody body, Idempotency idempotency) {
    this.evaluations = evaluations;
    this.body = body;
    this.idempotency = idempotency;
  }

  record EvaluateRequest(Integer version) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/agents/{id}/evaluation_cases", idempotency.wrap(this::createCase));
    routes.get("/api/agents/{id}/evaluation_cases", ctx ->
        ctx.json(new Page<>(evaluations.cases(Auth.caller(ctx).workspaceId(), ctx.pathParam("id")), null)));
    routes.delete("/api/evaluation_cases/{id}", ctx -> {
      evaluations.deleteCase(Auth.caller(ctx), ctx.pathParam("id"));
      ctx.status(204);
    });
    routes.post("/api/agents/{id}/evaluations", idempotency.wrap(this::evaluate));
    routes.get("/api/agents/{id}/evaluations", ctx ->
        ctx.json(new Page<>(evaluations.reports(Auth.caller(ctx).workspaceId(), ctx.pathParam("id")), null)));
    routes.get("/api/evaluations/{id}", ctx ->
        ctx.json(evaluations.report(Auth.caller(ctx).workspaceId(), ctx.pathParam("id"))));
  }

  private void createCase(Context ctx) {
    Caller caller = Auth.caller(ctx);
    var input = body.read(ctx, EvaluationService.CaseInput.class);
    ctx.status(201).json(evaluations.createCase(caller, ctx.pathParam("id"), input));
  }

  private void evaluate(Context ctx) {
    Caller caller = Auth.caller(ctx);
    EvaluateRequest request = body.readOrDefault(ctx, EvaluateRequest.class, new EvaluateRequest(null));
    ctx.status(201).json(evaluations.evaluate(caller, ctx.pathParam("id"), request.version()));
  }
}
