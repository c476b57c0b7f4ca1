package io.aryabhatta.providers;

import io.aryabhatta.model.ModelEndpoint;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The providers' endpoints as this process last read them, so that a run does not read its
 * provider's row and secrets, and decrypt them, again each time it starts. An entry is used while
 * nothing changed it here (a provider or secret written through this process drops every entry at
 * once) and for at most {@link #LIFETIME}, which bounds how long a change made through another node
 * takes to reach runs started on this one. Failures (a missing secret) are not kept.
 */
final class EndpointCache {
  static final Duration LIFETIME = Duration.ofSeconds(5);
  private static final int MOST_KEPT = 1024;

  private record Key(String workspaceId, String providerName) {}

  private record Entry(ModelEndpoint endpoint, long changesWhenRead, long readAtNanos) {}

  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong providerChanges = new AtomicLong();
  /** How many secrets this process has written: a provider's key may be one of them. */
  private final LongSupplier secretChanges;

  EndpointCache(LongSupplier secretChanges) {
    this.secretChanges = secretChanges;
  }

  ModelEndpoint get(String workspaceId, String providerName, Supplier<ModelEndpoint> read) {
    Key key = new Key(workspaceId, providerName);
    long changes = providerChanges.get() + secretChanges.getAsLong();
    Entry entry = entries.get(key);
    if (entry != null && entry.changesWhenRead() == changes
        && System.nanoTime() - entry.readAtNanos() < LIFETIME.toNanos()) {
      return entry.endpoint();
    }
    ModelEndpoint endpoint = read.get();
    if (entries.size() >= MOST_KEPT) {
      entries.clear();
    }
    entries.put(key, new Entry(endpoint, changes, System.nanoTime()));
    return endpoint;
  }

  /** A provider was written through this process: no entry read before is used again. */
  void providerChanged() {
    providerChanges.incrementAndGet();
  }
}
