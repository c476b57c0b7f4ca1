package io.aryabhatta.callbacks;

import java.time.Duration;

/**
 * How a callback is retried: at most {@code maxAttempts} attempts, waiting {@code firstWait},
 * then twice as long after each failure, never more than {@code longestWait}; each attempt may
 * take {@code attemptTimeout}, under a claim of {@code lease} (longer, so that a claim outlives the
 * attempt it covers).
 */
public record DeliveryPolicy(int maxAttempts, Duration firstWait, Duration longestWait, Duration attemptTimeout,
    Duration lease) {
  public static final int DEFAULT_MAX_ATTEMPTS = 8;

  public DeliveryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("a callback is attempted at least once");
    }
    if (attemptTimeout.compareTo(lease) >= 0) {
      throw new IllegalArgumentException("an attempt must end before its claim does");
    }
  }

  /**
   * The policy for a process whose runs are leased for {@code runLease}: a delivery is claimed for
   * as long, and an attempt takes at most a third of it (10 s with the default lease).
   */
  public static DeliveryPolicy of(int maxAttempts, Duration runLease) {
    Duration timeout = runLease.dividedBy(3);
    return new DeliveryPolicy(maxAttempts, Duration.ofSeconds(1), Duration.ofMinutes(10),
        timeout.compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : timeout, runLease);
  }

  /** The wait before attempt {@code failed + 1}, once {@code failed} attempts have failed. */
  public Duration waitAfter(int failed) {
    Duration wait = firstWait.multipliedBy(1L << Math.min(failed - 1, 30));
    return wait.compareTo(longestWait) > 0 ? longestWait : wait;
  }

  /** Whether a delivery with {@code made} attempts made may be attempted again. */
  public boolean allowsAnotherAfter(int made) {
    return made < maxAttempts;
  }
}
