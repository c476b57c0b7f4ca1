package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.Usage;
import java.time.Instant;

/**
 * A run as the API shows it.
 *
 * @param triggerId the trigger that started the run; null for a run started through the API
 */
public record Run(String id, String conversationId, String agentId, int agentVersion, RunStatus status, String output,
    JsonNode error, Usage usage, int stepsCount, JsonNode requiredAction, Instant createdAt, Instant startedAt,
    Instant endedAt, String callbackUrl, String triggerId) {

  /** Ended, or waiting for a person: a client waiting on the run can stop waiting. */
  public boolean settled() {
    return status.isSettled();
  }
}
