package io.aryabhatta.tools;

import io.aryabhatta.tools.HttpToolRunner.Failed;
import io.aryabhatta.tools.HttpToolRunner.Fetched;
import java.time.Duration;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;

/** The {@code http_get} built-in: fetches a public http(s) URL and returns its text. */
final class HttpGetTool {
  static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Set<String> TEXT_APPLICATION_TYPES = Set.of(
      "json", "xml", "javascript", "ecmascript", "x-javascript", "yaml", "x-yaml", "toml", "csv",
      "x-ndjson", "ndjson", "graphql", "sql", "x-www-form-urlencoded", "markdown", "rtf");

  private final HttpToolRunner runner;

  HttpGetTool(HttpToolRunner runner) {
    this.runner = runner;
  }

  /**
   * Fetches {@code url}. No templating: the URL comes from the model, so it must never reach
   * secrets.
   *
   * @throws Failed for a URL that is not http(s), a blocked or unreachable target, a timeout, or a
   *     response that is not text
   */
  Fetched get(String url, String idempotencyKey) throws Failed, InterruptedException {
    HttpUrl target = HttpUrl.parse(url.trim());
    if (target == null) {
      throw Failed.permanent("not an http(s) URL: '" + url + "'");
    }
    Request.Builder request = new Request.Builder().url(target).get()
        .header("Accept", "text/html, text/plain, application/json, application/xml;q=0.9, text/*;q=0.8")
        .header("User-Agent", ToolExecutor.USER_AGENT);
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    Fetched fetched = runner.fetch(request.build(), TIMEOUT, HttpGetTool::textLike);
    if (fetched.successful() && fetched.body().indexOf('\u0000') >= 0) {
      throw Failed.permanent(fetched.url().host() + " sent binary content; http_get only returns text");
    }
    return fetched;
  }

  /** Text content types, and a missing one (then the body is checked for binary bytes instead). */
  static boolean textLike(MediaType type) {
    if (type == null) {
      return true;
    }
    String subtype = type.subtype();
    return type.type().equals("text")
        || subtype.endsWith("+json") || subtype.endsWith("+xml")
        || (type.type().equals("application") && TEXT_APPLICATION_TYPES.contains(subtype));
  }
}
