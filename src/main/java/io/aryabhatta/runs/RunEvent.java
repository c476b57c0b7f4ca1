package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Set;

/** One persisted event of a run's stream; ids increase per run from 1. */
public record RunEvent(long id, String type, JsonNode data, Instant createdAt) {
  /** After one of these the stream ends. */
  public static final Set<String> FINAL = Set.of("run.completed", "run.failed", "run.cancelled", "run.requires_action");

  public boolean isFinal() {
    return FINAL.contains(type);
  }
}
