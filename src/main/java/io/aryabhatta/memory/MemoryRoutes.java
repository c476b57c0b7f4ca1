package io.aryabhatta.memory;

import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;

/** {@code /api/agents/{id}/memory/{key}}: an agent's memory blocks for one memory key, read and edited by a person. */
public final class MemoryRoutes {
  private final MemoryService memory;
  private final AgentService agents;
  private final JsonBody body;

  public MemoryRoutes(MemoryService memory, AgentService agents, JsonBody body) {
    this.memory = memory;
    this.agents = agents;
    this.body = body;
  }

  record SetBlock(String value) {}

  record Versions(List<MemoryService.Version> data) {}

  public void register(RoutesConfig routes) {
    routes.get("/api/agents/{id}/memory/{key}", ctx -> ctx.json(memory.blocks(agent(ctx), key(ctx))));
    routes.put("/api/agents/{id}/memory/{key}/{label}", ctx -> {
      SetBlock request = body.read(ctx, SetBlock.class);
      ctx.json(memory.set(Auth.caller(ctx), agent(ctx), key(ctx), ctx.pathParam("label"), request.value()));
    });
    routes.get("/api/agents/{id}/memory/{key}/{label}/versions", ctx -> ctx.json(new Versions(memory.versions(
        Auth.caller(ctx).workspaceId(), agent(ctx), key(ctx), ctx.pathParam("label")))));
  }

  /** The agent's latest version: the blocks it keeps now. */
  private AgentVersion agent(Context ctx) {
    Caller caller = Auth.caller(ctx);
    return agents.version(caller.workspaceId(), ctx.pathParam("id"), null);
  }

  private static String key(Context ctx) {
    String key = ctx.pathParam("key");
    MemoryService.checkKey(key);
    return key;
  }
}
