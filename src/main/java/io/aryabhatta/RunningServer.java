package io.aryabhatta;

import io.aryabhatta.db.Database;
import io.aryabhatta.runtime.RunScheduler;
import io.javalin.Javalin;
import java.time.Duration;
import java.util.List;

/** A started server: its HTTP port and what must be stopped, in order, when it shuts down. */
public final class RunningServer implements AutoCloseable {
  private final Javalin app;
  private final RunScheduler scheduler;
  private final Database database;

  RunningServer(Javalin app, RunScheduler scheduler, Database database) {
    this.app = app;
    this.scheduler = scheduler;
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
    return app.unsafe.internalRouter.allHttpHandlers().stream()
        .map(parsed -> parsed.endpoint)
        .filter(endpoint -> endpoint.method.isHttpMethod())
        .map(endpoint -> endpoint.method.name() + " " + endpoint.path)
        .sorted()
        .toList();
  }

  public Database database() {
    return database;
  }

  public RunScheduler scheduler() {
    return scheduler;
  }

  /** Graceful: stop taking runs and let in-flight steps commit, then stop HTTP and the database. */
  @Override
  public void close() {
    scheduler.shutdown(Duration.ofSeconds(10));
    app.stop();
    database.close();
  }
}
