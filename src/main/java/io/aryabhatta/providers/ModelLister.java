package io.aryabhatta.providers;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.ModelEndpoint;

/**
 * Fetches a provider's model list (its {@code GET /models} answer, as received). Implementations
 * report failures as {@link io.aryabhatta.errors.DomainException}s (e.g. {@code UpstreamFailed}); any
 * other exception is answered as an unreachable provider.
 */
@FunctionalInterface
public interface ModelLister {
  JsonNode list(ModelEndpoint endpoint);
}
