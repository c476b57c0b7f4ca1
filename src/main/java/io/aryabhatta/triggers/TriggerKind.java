package io.aryabhatta.triggers;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;
import java.util.Arrays;
import java.util.Optional;

/** What starts a trigger's runs: signed deliveries to its hook, or the ticks of its cron expression. */
public enum TriggerKind implements WireName {
  WEBHOOK,
  SCHEDULE;

  /** The constant spelled {@code wire}, if any. */
  public static Optional<TriggerKind> of(String wire) {
    return Arrays.stream(values()).filter(v -> v.wire().equals(wire)).findFirst();
  }

  @JsonValue
  @Override
  public String toString() {
    return wire();
  }
}
