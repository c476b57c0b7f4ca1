package io.aryabhatta.tools;

import okhttp3.OkHttpClient;

/**
 * Fetches a public http(s) page with the rules of the {@code http_get} tool (the address guard,
 * redirects checked hop by hop, a size cap, text only), for the platform's own fetches: a
 * knowledge base's document added by URL.
 */
public final class GuardedFetch {
  private final HttpGetTool get;

  public GuardedFetch(OkHttpClient http, AddressGuard guard, long maxBytes) {
    this.get = new HttpGetTool(new HttpToolRunner(http, guard, maxBytes));
  }

  /** A page fetched: where it ended up, its declared type (or null), its text. */
  public record Page(String url, String contentType, String text, boolean truncated) {}

  /** Why nothing was fetched, in words for the person who asked. */
  public static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  public Page get(String url) throws Refused, InterruptedException {
    try {
      HttpToolRunner.Fetched fetched = get.get(url, null);
      if (!fetched.successful()) {
        throw new Refused(fetched.url().host() + " answered " + fetched.status());
      }
      return new Page(fetched.url().toString(), fetched.contentType() == null ? null : fetched.contentType().toString(),
          fetched.body(), fetched.truncated());
    } catch (HttpToolRunner.Failed e) {
      throw new Refused(e.getMessage());
    }
  }
}
