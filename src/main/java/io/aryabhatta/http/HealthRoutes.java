package io.aryabhatta.http;

import io.aryabhatta.db.Database;
import io.aryabhatta.db.Migrations;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Map;

/** {@code /health}: the process answers. {@code /ready}: the database answers and is migrated. */
public final class HealthRoutes {
  private final Database database;
  private final Migrations migrations;

  public HealthRoutes(Database database, Migrations migrations) {
    this.database = database;
    this.migrations = migrations;
  }

  public void register(RoutesConfig routes) {
    routes.get("/health", ctx -> ctx.json(Map.of("status", "ok")));
    routes.get("/ready", this::ready);
  }

  private void ready(Context ctx) {
    if (!database.reachable()) {
      throw new ApiException.Unavailable("the database is not reachable");
    }
    if (!migrations.upToDate()) {
      throw new ApiException.Unavailable("database migrations are pending");
    }
    ctx.json(Map.of("status", "ready"));
  }
}
