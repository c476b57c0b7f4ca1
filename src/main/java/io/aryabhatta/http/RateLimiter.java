package io.aryabhatta.http;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per API key: {@code perMinute} requests a minute on average, bursts up to the
 * same number. In memory, per process; each node of a cluster limits on its own.
 */
public final class RateLimiter {
  private final int perMinute;
  private final Clock clock;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  public RateLimiter(int perMinute, Clock clock) {
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /** Takes one token for {@code key} or throws {@link ApiException.RateLimited}. */
  public void acquire(String key) {
    if (perMinute <= 0) {
      return;
    }
    long waitMillis = buckets.computeIfAbsent(key, k -> new Bucket(perMinute, clock.millis())).take(clock.millis());
    if (waitMillis > 0) {
      throw new ApiException.RateLimited(Math.max(1, (waitMillis + 999) / 1000));
    }
  }

  private static final class Bucket {
    private final double capacity;
    private final double perMilli;
    private double tokens;
    private long updatedAt;

    Bucket(int perMinute, long now) {
      this.capacity = perMinute;
      this.perMilli = perMinute / 60_000.0;
      this.tokens = perMinute;
      this.updatedAt = now;
    }

    /** Returns 0 when a token was taken, else how long until one is available. */
    synchronized long take(long now) {
      tokens = Math.min(capacity, tokens + (now - updatedAt) * perMilli);
      updatedAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - tokens) / perMilli);
    }
  }
}
