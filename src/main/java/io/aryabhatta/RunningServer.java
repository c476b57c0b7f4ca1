package io.aryabhatta;

import io.aryabhatta.db.Database;
import io.aryabhatta.engine.RunScheduler;
import io.aryabhatta.triggers.TriggerService;
import io.aryabhatta.http.RegisteredRoutes;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.RunService;
import io.javalin.Javalin;
import java.time.Duration;
import java.util.List;

/** A started server: its HTTP port and what must be stopped, in order, when it shuts down. */
public final class RunningServer implements AutoCloseable {
  private final Javalin app;
  private final RegisteredRoutes routes;
  private final Engine engine;
  private final Database database;
  private final Duration shutdownGrace;

  RunningServer(Javalin app, RegisteredRoutes routes, Engine engine, Database database, Duration shutdownGrace) {
    this.shutdownGrace = shutdownGrace;
    this.app = app;
    this.routes = routes;
    this.engine = engine;
    this.database = database;
  }

  public int port() {
    return app.port();
  }

  /**
   * The HTTP routes the server answers, as {@code "GET /api/agents/{id}"}: what the OpenAPI document
   * must describe.
   */
  public List<String> routes() {
    return routes.all();
  }

  public Database database() {
    return database;
  }

  public RunScheduler scheduler() {
    return engine.scheduler();
  }

  /** The run API without HTTP, for callers in this process (the benchmark's in-process scenario). */
  public RunService runs() {
    return engine.runs();
  }

  /** The triggers without HTTP (a test fires a schedule's tick from many threads at once). */
  public TriggerService triggers() {
    return engine.triggers();
  }

  /** Wakes in-process waiters when a run's events commit. */
  public EventNotifier notifier() {
    return engine.notifier();
  }

  /** Graceful: stop taking runs and let in-flight steps commit, then stop HTTP and the database. */
  @Override
  public void close() {
    engine.shutdown(shutdownGrace);
    app.stop();
    database.close();
  }
}
