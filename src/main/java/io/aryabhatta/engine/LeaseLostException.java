package io.aryabhatta.engine;

/**
 * The run's lease moved to another process, or is too close to its end to start a side effect
 * under it: this process must write nothing more for the run (or start nothing, and let it go).
 */
public final class LeaseLostException extends RuntimeException {
  public LeaseLostException(String runId) {
    this(runId, "it was taken over by another process");
  }

  public LeaseLostException(String runId, String why) {
    super("lease lost: " + why, null, false, false);
  }
}
