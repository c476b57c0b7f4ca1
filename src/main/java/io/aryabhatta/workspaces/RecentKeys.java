package io.aryabhatta.workspaces;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * API keys this node found valid in the last {@link #RECHECK_AFTER}, by hash, so that most requests
 * skip the database lookup (a round trip that cost about 0.6 ms of every request). Only valid keys
 * are remembered: a new key works at once everywhere, an unknown one is looked up every time.
 *
 * <p>A revocation on this node takes effect at once: {@link #forgetAll} runs after it commits, and
 * a lookup that raced with it does not keep what it read. A key revoked on another node (or in the
 * database directly) keeps working here for at most {@link #RECHECK_AFTER}.
 */
final class RecentKeys {
  static final Duration RECHECK_AFTER = Duration.ofSeconds(1);

  private record Remembered(Caller caller, long checkedAtNanos) {}

  private final ConcurrentHashMap<String, Remembered> byHash = new ConcurrentHashMap<>();
  private final AtomicLong revocations = new AtomicLong();
  private final LongSupplier nanoTime;
  private final long recheckAfterNanos;

  RecentKeys(LongSupplier nanoTime, Duration recheckAfter) {
    this.nanoTime = nanoTime;
    this.recheckAfterNanos = recheckAfter.toNanos();
  }

  /** The caller of the key with this hash, remembered or else from {@code lookup}. */
  Optional<Caller> caller(String keyHash, Function<String, Optional<Caller>> lookup) {
    // Taken before the lookup, so a remembered answer is never older than it claims.
    long now = nanoTime.getAsLong();
    Remembered remembered = byHash.get(keyHash);
    if (remembered != null && now - remembered.checkedAtNanos() < recheckAfterNanos) {
      return Optional.of(remembered.caller());
    }
    long revocationsBefore = revocations.get();
    Optional<Caller> found = lookup.apply(keyHash);
    if (found.isEmpty()) {
      if (remembered != null) {
        byHash.remove(keyHash, remembered);
      }
      return found;
    }
    Remembered fresh = new Remembered(found.get(), now);
    byHash.put(keyHash, fresh);
    // A revocation that committed while we read may not be in what we read: drop it, not keep it.
    if (revocations.get() != revocationsBefore) {
      byHash.remove(keyHash, fresh);
    }
    return found;
  }

  /** After a revocation has committed: every key is looked up again. */
  void forgetAll() {
    revocations.incrementAndGet();
    byHash.clear();
  }
}
