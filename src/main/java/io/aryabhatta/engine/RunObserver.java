package io.aryabhatta.engine;

import io.aryabhatta.model.Usage;
import java.time.Duration;

/** Told about every finished model call and tool execution of the engine, e.g. to keep metrics. */
public interface RunObserver {
  /**
   * @param outcome {@code ok}, or the model error's kind
   * @param usage as reported, or null
   */
  void modelCall(String provider, String model, String outcome, Duration duration, Usage usage);

  void toolCall(String tool, boolean ok, Duration duration);
}
