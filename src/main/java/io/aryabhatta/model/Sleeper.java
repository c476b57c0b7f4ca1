package io.aryabhatta.model;

import java.time.Duration;

/** Waits between attempts; interruptible, so a cancelled run stops waiting at once. */
@FunctionalInterface
interface Sleeper {
  Sleeper REAL = duration -> Thread.sleep(duration);

  void sleep(Duration duration) throws InterruptedException;
}
