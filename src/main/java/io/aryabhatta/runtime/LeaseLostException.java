package io.aryabhatta.runtime;

/** The run's lease moved to another process: this one must write nothing more for the run. */
public final class LeaseLostException extends RuntimeException {
  public LeaseLostException(String runId) {
    super("lease on run " + runId + " was lost", null, false, false);
  }
}
