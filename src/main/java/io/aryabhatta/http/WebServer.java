package io.aryabhatta.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.router.Endpoint;
import io.aryabhatta.metrics.Metrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The Javalin application: request ids, access log, authentication of {@code /api}, {@code /v1}
 * and {@code /mcp} by API key ({@code /hooks} deliveries carry a signature instead), problem JSON,
 * the playground page at {@code /}, and the route groups it is given.
 */
public final class WebServer {
  private static final Logger accessLog = LoggerFactory.getLogger("access");

  /**
   * The playground keeps an API key in the browser, so its page may load nothing from elsewhere
   * and may not be framed.
   */
  private static final Map<String, String> PLAYGROUND_HEADERS = Map.of(
      "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; "
          + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      "X-Content-Type-Options", "nosniff",
      "Referrer-Policy", "no-referrer",
      "Cache-Control", "no-cache");

  private static final int ACCEPT_QUEUE_SIZE = 4096;

  private WebServer() {}

  /** The matched route template (e.g. /api/runs/{id}), so metric labels stay bounded. */
  private static String route(Context ctx) {
    Endpoint endpoint = ctx.endpoints().matchedHttpEndpoint();
    return endpoint == null ? "unmatched" : endpoint.path;
  }

  public static Javalin create(ObjectMapper mapper, long maxBodyBytes, Cors cors, Auth auth, Problems problems,
      Metrics metrics, RegisteredRoutes registeredRoutes, List<Consumer<RoutesConfig>> routeGroups) {
    return Javalin.create(config -> {
      registeredRoutes.recordFrom(config.events);
      config.concurrency.useVirtualThreads = true;
      config.jetty.modifyServer(WebServer::acceptBursts);
      config.startup.showJavalinBanner = false;
      config.startup.startupWatcherEnabled = false;
      config.http.prefer405over404 = true;
      config.http.maxRequestSize = maxBodyBytes;
      config.jsonMapper(new JavalinJackson(mapper, true));
      config.staticFiles.add(files -> {
        files.hostedPath = "/";
        files.directory = "/public";
        files.location = Location.CLASSPATH;
        files.headers = PLAYGROUND_HEADERS;
        // API paths never fall through to files, whatever the classpath holds.
        files.skipFileFunction = request -> isApiPath(request.getRequestURI());
      });
      config.requestLogger.http((ctx, ms) -> {
        accessLog.info("{} {} {} {}ms request_id={}",
            ctx.method(), ctx.path(), ctx.status().getCode(), Math.round(ms), RequestIds.of(ctx));
        metrics.httpRequest(ctx.method().name(), route(ctx), ctx.status().getCode(),
            Duration.ofNanos((long) (ms * 1_000_000)));
      });
      RoutesConfig routes = config.routes;
      routes.before(ctx -> {
        RequestIds.assign(ctx);
        MDC.put("request_id", RequestIds.of(ctx));
      });
      cors.register(routes);
      routes.before("/api/*", auth::authenticate);
      routes.before("/v1/*", auth::authenticate);
      routes.before("/mcp", auth::authenticate);
      routes.after(ctx -> MDC.remove("request_id"));
      problems.register(routes);
      routeGroups.forEach(group -> group.accept(routes));
    });
  }

  /**
   * Jetty's default listen backlog is the JDK's 50: a burst of more simultaneous connections
   * (hundreds of clients starting runs at once) overflowed it, and the kernel dropped the excess
   * connections, which clients saw as requests answered with nothing. The kernel caps this at
   * {@code net.core.somaxconn}. Set when the server starts, once Javalin has added its connector.
   */
  private static void acceptBursts(Server server) {
    server.addEventListener(new LifeCycle.Listener() {
      @Override
      public void lifeCycleStarting(LifeCycle event) {
        for (Connector connector : server.getConnectors()) {
          if (connector instanceof ServerConnector serverConnector) {
            serverConnector.setAcceptQueueSize(ACCEPT_QUEUE_SIZE);
          }
        }
      }
    });
  }

  private static boolean isApiPath(String path) {
    return path.startsWith("/api/") || path.equals("/api") || path.startsWith("/v1/") || path.equals("/v1")
        || path.equals("/mcp") || path.startsWith("/hooks/");
  }
}
