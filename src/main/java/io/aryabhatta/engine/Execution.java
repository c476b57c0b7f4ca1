package io.aryabhatta.engine;

/**
 * One run being driven by this process: the thread doing it, whether it is waiting on a model call
 * that a cancel may interrupt (an executing tool is always let finish), and whether the process is
 * shutting down (the loop then stops at the next step boundary).
 */
final class Execution {
  private final Thread thread;
  private boolean inModelCall;
  private boolean cancelled;
  private volatile boolean stopping;

  Execution(Thread thread) {
    this.thread = thread;
  }

  /**
   * The run's thread starts or ends a model call. A call started after a cancel is interrupted at
   * once: every other call is preceded by a commit whose fence sees the cancel, but a run's first
   * one may have been opened by the run's creation.
   */
  synchronized void modelCall(boolean active) {
    inModelCall = active;
    if (active && cancelled) {
      thread.interrupt();
    }
  }

  synchronized void interruptModelCall() {
    cancelled = true;
    if (inModelCall) {
      // The run's thread writes nothing while it waits on the model (its deltas are written by
      // threads of their own): the interrupt cuts no database connection.
      thread.interrupt();
    }
  }

  /** Asks the loop to stop before its next step; the step in flight commits first. */
  void stop() {
    stopping = true;
  }

  boolean stopping() {
    return stopping;
  }
}
