package io.aryabhatta.providers;

import java.time.Instant;
import java.util.Map;

/**
 * A provider as the API shows it: never a key, only the name of the secret holding it.
 *
 * @param builtin true for {@code hf}, which is configured by the environment and read-only
 * @param hasApiKey whether requests will carry an API key
 */
public record ProviderView(String id, String name, boolean builtin, String baseUrl, String apiKeySecret,
    boolean hasApiKey, Map<String, String> defaultHeaders, int maxAttempts, int connectTimeoutMs, int readTimeoutMs,
    Instant createdAt, Instant updatedAt) {}
