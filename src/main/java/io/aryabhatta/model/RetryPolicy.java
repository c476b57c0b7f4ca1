package io.aryabhatta.model;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ThreadLocalRandom;
import okhttp3.Headers;

/**
 * How long to wait before the next attempt: the provider's {@code Retry-After} when it sent one
 * (capped), otherwise exponential backoff with jitter.
 *
 * @param firstBackoff the wait before the second attempt, before jitter
 * @param longestBackoff the longest computed wait
 * @param longestRetryAfter the longest wait a provider may ask for; longer asks are cut to this
 */
record RetryPolicy(Duration firstBackoff, Duration longestBackoff, Duration longestRetryAfter, Sleeper sleeper,
    Clock clock) {

  static RetryPolicy standard() {
    return new RetryPolicy(Duration.ofMillis(500), Duration.ofSeconds(8), Duration.ofSeconds(60), Sleeper.REAL,
        Clock.systemUTC());
  }

  /**
   * The wait before attempt {@code failedAttempts + 1}.
   *
   * @param retryAfter what the provider asked for, or null
   */
  Duration delayAfter(int failedAttempts, Duration retryAfter) {
    if (retryAfter != null) {
      return retryAfter.compareTo(longestRetryAfter) > 0 ? longestRetryAfter : retryAfter;
    }
    long exponential = firstBackoff.toMillis() << Math.min(failedAttempts - 1, 20);
    long capped = Math.min(exponential, longestBackoff.toMillis());
    // "Equal jitter": at least half the backoff, so concurrent callers spread out but still back off.
    long half = capped / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
  }

  /**
   * Reads {@code retry-after-ms} (OpenAI) or {@code Retry-After} in seconds or as an HTTP date.
   * Returns null when absent or unreadable.
   */
  Duration retryAfter(Headers headers) {
    Duration millis = parseMillis(headers.get("retry-after-ms"));
    if (millis != null) {
      return millis;
    }
    String value = headers.get("Retry-After");
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      double seconds = Double.parseDouble(value.strip());
      return seconds < 0 ? null : Duration.ofMillis((long) (seconds * 1000));
    } catch (NumberFormatException notSeconds) {
      return untilDate(value.strip());
    }
  }

  private Duration untilDate(String httpDate) {
    try {
      ZonedDateTime at = ZonedDateTime.parse(httpDate, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration wait = Duration.between(clock.instant(), at.toInstant());
      return wait.isNegative() ? Duration.ZERO : wait;
    } catch (DateTimeParseException unreadable) {
      return null;
    }
  }

  private static Duration parseMillis(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      double millis = Double.parseDouble(value.strip());
      return millis < 0 ? null : Duration.ofMillis((long) millis);
    } catch (NumberFormatException unreadable) {
      return null;
    }
  }
}
