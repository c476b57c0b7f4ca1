package io.aryabhatta.providers;

import java.util.Map;

/**
 * A provider as a client writes it (POST body, or the result of applying a PATCH); absent
 * optional fields take their defaults.
 *
 * @param apiKeySecret name of the secret holding the API key, or null for none (e.g. Ollama)
 * @param defaultHeaders sent with every request; values may reference {@code {{secret.NAME}}}
 */
public record ProviderInput(String name, String baseUrl, String apiKeySecret, Map<String, String> defaultHeaders,
    Integer maxAttempts, Integer connectTimeoutMs, Integer readTimeoutMs) {}
