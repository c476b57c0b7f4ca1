package io.aryabhatta;

import io.aryabhatta.db.Database;
import io.javalin.Javalin;

/** A started server: its HTTP port and what must be stopped, in order, when it shuts down. */
public final class RunningServer implements AutoCloseable {
  private final Javalin app;
  private final Database database;

  RunningServer(Javalin app, Database database) {
    this.app = app;
    this.database = database;
  }

  public int port() {
    return app.port();
  }

  public Database database() {
    return database;
  }

  @Override
  public void close() {
    app.stop();
    database.close();
  }
}
