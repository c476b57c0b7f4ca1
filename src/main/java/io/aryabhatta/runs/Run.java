package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.Usage;
import java.time.Instant;

/**
 * A run as the API shows it.
 *
 * @param triggerId the trigger that started the run; null for a run started through the API
 * @param parentRunId the run whose sub-agent call started this one, and {@code parentStep} that call's
 *     step; null for a run that no agent called
 * @param depth how many calls of agents lead to this run from its root (0)
 */
public record Run(String id, String conversationId, String agentId, int agentVersion, RunStatus status, String output,
    JsonNode error, Usage usage, int stepsCount, JsonNode requiredAction, Instant createdAt, Instant startedAt,
    Instant endedAt, String callbackUrl, String triggerId, String parentRunId, Integer parentStep, int depth) {

  /** A run that no agent called. */
  public Run(String id, String conversationId, String agentId, int agentVersion, RunStatus status, String output,
      JsonNode error, Usage usage, int stepsCount, JsonNode requiredAction, Instant createdAt, Instant startedAt,
      Instant endedAt, String callbackUrl, String triggerId) {
    this(id, conversationId, agentId, agentVersion, status, output, error, usage, stepsCount, requiredAction, createdAt,
        startedAt, endedAt, callbackUrl, triggerId, null, null, 0);
  }

  /** Ended, or waiting for a person: a client waiting on the run can stop waiting. */
  public boolean settled() {
    return status.isSettled();
  }
}
