package io.aryabhatta.model;

/**
 * Keeps an endpoint's secrets out of messages, even when a provider echoes them back: the API key
 * and the default header values (which may hold secrets filled in from {@code {{secret.NAME}}}).
 */
final class Secrets {
  private static final int SHORTEST_MASKED_KEY = 4;
  // Shorter header values are ordinary words (e.g. "true"), not secrets worth masking everywhere.
  private static final int SHORTEST_MASKED_HEADER = 8;

  private Secrets() {}

  static String redact(String text, ModelEndpoint endpoint) {
    String redacted = mask(text, endpoint.apiKey(), SHORTEST_MASKED_KEY);
    for (String value : endpoint.defaultHeaders().values()) {
      redacted = mask(redacted, value, SHORTEST_MASKED_HEADER);
    }
    return redacted;
  }

  private static String mask(String text, String secret, int shortest) {
    if (text == null || secret == null || secret.length() < shortest) {
      return text;
    }
    return text.replace(secret, "***");
  }
}
