package io.aryabhatta.runtime;

/**
 * One run being driven by this process: the thread doing it, and whether it is waiting on a model
 * call that a cancel may interrupt (an executing tool is always let finish).
 */
final class Execution {
  private final Thread thread;
  private volatile boolean inModelCall;

  Execution(Thread thread) {
    this.thread = thread;
  }

  void modelCall(boolean active) {
    inModelCall = active;
  }

  void interruptModelCall() {
    if (inModelCall) {
      thread.interrupt();
    }
  }
}
