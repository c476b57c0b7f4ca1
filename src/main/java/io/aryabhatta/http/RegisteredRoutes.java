package io.aryabhatta.http;

import io.javalin.config.EventConfig;
import io.javalin.event.HandlerMetaInfo;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The HTTP routes the server answers, as {@code "GET /api/agents/{id}"}, recorded from Javalin's
 * handler-added event as each one is registered: what the OpenAPI document must describe.
 */
public final class RegisteredRoutes {
  private final List<String> routes = new CopyOnWriteArrayList<>();

  /** Must be called before any route is added, or the routes added earlier go unrecorded. */
  void recordFrom(EventConfig events) {
    events.handlerAdded(this::record);
  }

  private void record(HandlerMetaInfo handler) {
    // Before and after filters are handlers too, but not routes a client can call.
    if (handler.getHttpMethod().isHttpMethod()) {
      routes.add(handler.getHttpMethod().name() + " " + handler.getPath());
    }
  }

  public List<String> all() {
    return routes.stream().sorted().toList();
  }
}
