package io.aryabhatta.model;

/** Keeps API keys out of messages, even when a provider echoes the key back. */
final class Secrets {
  private static final int SHORTEST_MASKED_KEY = 4;

  private Secrets() {}

  static String redact(String text, String apiKey) {
    if (text == null || apiKey == null || apiKey.length() < SHORTEST_MASKED_KEY) {
      return text;
    }
    return text.replace(apiKey, "***");
  }
}
