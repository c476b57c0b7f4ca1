package io.aryabhatta.callbacks;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;

/** Where a run's callback is: still to be sent (again), received with a 2xx, or given up on. */
public enum DeliveryStatus implements WireName {
  PENDING,
  DELIVERED,
  FAILED;

  public static DeliveryStatus of(String wire) {
    return WireName.parse(DeliveryStatus.class, wire);
  }

  @JsonValue
  @Override
  public String toString() {
    return wire();
  }
}
