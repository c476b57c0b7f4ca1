package io.aryabhatta.callbacks;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * A run's callback as the API shows it: every attempt made (when, status code or error, duration)
 * and, while it is pending, when the next one is due.
 */
public record CallbackDelivery(String id, String runId, String url, DeliveryStatus status, int attemptCount,
    JsonNode attempts, Instant nextAttemptAt, Integer lastStatusCode, String lastError, Instant deliveredAt,
    Instant createdAt) {}
