package io.aryabhatta.engine;

import java.time.Duration;

/**
 * How often an {@code idempotent} tool call that failed transiently (timeout, refused connection,
 * 408, 429, 5xx) is tried again: at most {@code maxAttempts} attempts in all, waiting
 * {@code firstBackoff}, then twice as long each time, never more than {@code maxBackoff}. Tools
 * that are not idempotent are never retried.
 */
public record ToolRetryPolicy(int maxAttempts, Duration firstBackoff, Duration maxBackoff) {
  public static ToolRetryPolicy of(int maxAttempts) {
    return new ToolRetryPolicy(maxAttempts, Duration.ofMillis(500), Duration.ofSeconds(8));
  }

  /** The wait before attempt number {@code next} (2 for the first retry). */
  Duration backoffBefore(int next) {
    long millis = firstBackoff.toMillis() << Math.min(20, Math.max(0, next - 2));
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }
}
