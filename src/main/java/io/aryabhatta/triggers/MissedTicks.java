package io.aryabhatta.triggers;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;
import java.util.Arrays;
import java.util.Optional;

/**
 * What a schedule does with ticks no node fired on time (every node was down): run once, late, for
 * all of them, or skip them.
 */
public enum MissedTicks implements WireName {
  RUN_ONCE,
  SKIP;

  /** The constant spelled {@code wire}, if any. */
  public static Optional<MissedTicks> of(String wire) {
    return Arrays.stream(values()).filter(v -> v.wire().equals(wire)).findFirst();
  }

  @JsonValue
  @Override
  public String toString() {
    return wire();
  }
}
