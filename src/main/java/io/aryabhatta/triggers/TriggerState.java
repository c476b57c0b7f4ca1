package io.aryabhatta.triggers;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;
import java.util.Arrays;
import java.util.Optional;

/** Whether a trigger starts runs: a paused one refuses deliveries and lets its ticks pass. */
public enum TriggerState implements WireName {
  ACTIVE,
  PAUSED;

  /** The constant spelled {@code wire}, if any. */
  public static Optional<TriggerState> of(String wire) {
    return Arrays.stream(values()).filter(v -> v.wire().equals(wire)).findFirst();
  }

  @JsonValue
  @Override
  public String toString() {
    return wire();
  }
}
