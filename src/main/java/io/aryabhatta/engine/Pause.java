package io.aryabhatta.engine;

/** Waiting between tries, for the loop and the journal. */
final class Pause {
  private Pause() {}

  /** False when interrupted (the interrupt flag is kept for the caller). */
  static boolean sleep(long millis) {
    try {
      Thread.sleep(millis);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
