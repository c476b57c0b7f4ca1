package io.aryabhatta.model;

import java.time.Duration;
import java.util.Map;

/**
 * Where and how to call one OpenAI-compatible provider.
 *
 * @param provider the provider's name, for errors and metrics
 * @param baseUrl e.g. {@code https://router.huggingface.co/v1}; chat completions are at
 *     {@code baseUrl + "/chat/completions"}, models at {@code baseUrl + "/models"}
 * @param apiKey sent as {@code Authorization: Bearer}; null sends none
 * @param defaultHeaders added to every request
 * @param maxAttempts attempts per call, including the first (1 = no retry)
 * @param connectTimeout time to connect
 * @param readTimeout longest silence while waiting for bytes of the response
 */
public record ModelEndpoint(String provider, String baseUrl, String apiKey, Map<String, String> defaultHeaders,
    int maxAttempts, Duration connectTimeout, Duration readTimeout) {
  public ModelEndpoint {
    defaultHeaders = defaultHeaders == null ? Map.of() : Map.copyOf(defaultHeaders);
  }

  public String chatCompletionsUrl() {
    return baseUrl + "/chat/completions";
  }

  public String modelsUrl() {
    return baseUrl + "/models";
  }

  /** The API key never appears in logs. */
  @Override
  public String toString() {
    return "ModelEndpoint[" + provider + " " + baseUrl + "]";
  }
}
