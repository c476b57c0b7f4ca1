package io.aryabhatta.triggers;

import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * A new trigger, with a webhook's signing secret: shown this once, stored only encrypted.
 *
 * @param secret null for a schedule
 */
public record TriggerCreated(@JsonUnwrapped TriggerView trigger, String secret) {
  @Override
  public String toString() {
    return "TriggerCreated[trigger=" + trigger.id() + ", secret=***]";
  }
}
