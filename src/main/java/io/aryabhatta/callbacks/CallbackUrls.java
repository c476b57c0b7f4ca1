package io.aryabhatta.callbacks;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.AddressGuard.BlockedAddressException;
import java.net.UnknownHostException;
import okhttp3.HttpUrl;

/**
 * Checks a run's {@code callback_url} when the run is created: an http or https URL that the
 * address guard of HTTP tools lets through. A host name is resolved and each of its addresses
 * checked now, and again by every delivery (its addresses may have changed since). A name that
 * does not resolve yet is accepted: its deliveries fail and are retried.
 */
public final class CallbackUrls {
  /** Where a callback URL is given on most requests; the OpenAI-compatible API has its own. */
  public static final String FIELD = "callback_url";

  private final AddressGuard guard;

  public CallbackUrls(AddressGuard guard) {
    this.guard = guard;
  }

  /** The URL as it will be called, or null when none is given. */
  public String checked(String raw) {
    return checked(raw, FIELD);
  }

  /** The same, refused on {@code field}, the name the client gave it. */
  public String checked(String raw, String field) {
    if (raw == null) {
      return null;
    }
    String text = raw.strip();
    HttpUrl url = text.regionMatches(true, 0, "http://", 0, 7) || text.regionMatches(true, 0, "https://", 0, 8)
        ? HttpUrl.parse(text) : null;
    if (url == null) {
      throw new DomainException.ValidationFailed(field, "must be an absolute http or https URL");
    }
    if (url.username().length() > 0 || url.password().length() > 0) {
      throw new DomainException.ValidationFailed(field, "must not carry credentials; verify the signature instead");
    }
    try {
      guard.checkUrl(url);
      if (!isIpLiteral(url.host())) {
        guard.lookup(url.host());
      }
    } catch (BlockedAddressException e) {
      throw new DomainException.ValidationFailed(field, forCallbacks(e.getMessage()));
    } catch (UnknownHostException e) {
      // Not resolvable now: the deliveries will say so, and retry.
    }
    return url.toString();
  }

  static String forCallbacks(String guardMessage) {
    return guardMessage.replace("HTTP tools may only", "Callbacks may only");
  }

  static boolean isIpLiteral(String host) {
    return host.contains(":") || host.matches("[\\d.]+");
  }
}
