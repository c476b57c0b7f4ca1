package io.aryabhatta.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.Usage;
import java.time.Instant;
import java.util.Set;

/** A run as the API shows it. */
public record Run(String id, String conversationId, String agentId, int agentVersion, String status, String output,
    JsonNode error, Usage usage, int stepsCount, JsonNode requiredAction, Instant createdAt, Instant startedAt,
    Instant endedAt) {

  public static final Set<String> ACTIVE = Set.of("queued", "running", "requires_action");
  public static final Set<String> ENDED = Set.of("completed", "failed", "cancelled");

  /** Ended, or waiting for a person: a client waiting on the run can stop waiting. */
  public boolean settled() {
    return ENDED.contains(status) || status.equals("requires_action");
  }
}
