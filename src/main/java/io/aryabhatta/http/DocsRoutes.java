package io.aryabhatta.http;

import io.javalin.config.RoutesConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code /openapi.json} (the API's OpenAPI 3.1 description) and {@code /docs} (a page that renders
 * it and sends requests), both from the jar, without authentication and without any CDN.
 */
public final class DocsRoutes {
  private final byte[] openApi = resource("/openapi.json");
  private final byte[] docsPage = resource("/docs/index.html");

  public void register(RoutesConfig routes) {
    routes.get("/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
    routes.get("/docs", ctx -> ctx.contentType("text/html; charset=utf-8").result(docsPage));
  }

  private static byte[] resource(String path) {
    try (InputStream in = DocsRoutes.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("the jar lacks " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
