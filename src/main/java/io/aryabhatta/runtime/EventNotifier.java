package io.aryabhatta.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;

/**
 * Wakes the readers of a run's event stream in this process when new events commit. Readers also
 * poll the database, so events written by another node reach them too.
 */
public final class EventNotifier {
  private final ConcurrentHashMap<String, Set<Subscription>> subscriptions = new ConcurrentHashMap<>();

  /** Notifies once the transaction that wrote the event has committed. */
  void afterCommit(Handle h, String runId) {
    h.afterCommit(() -> notify(runId));
  }

  public void notify(String runId) {
    Set<Subscription> subs = subscriptions.get(runId);
    if (subs != null) {
      subs.forEach(s -> s.signal.release());
    }
  }

  public Subscription subscribe(String runId) {
    Subscription s = new Subscription(runId);
    subscriptions.computeIfAbsent(runId, k -> ConcurrentHashMap.newKeySet()).add(s);
    return s;
  }

  /** A reader's wake-up signal; close it when the reader is done. */
  public final class Subscription implements AutoCloseable {
    private final String runId;
    private final Semaphore signal = new Semaphore(0);

    private Subscription(String runId) {
      this.runId = runId;
    }

    /** Waits until something new may be there, or the timeout passes. */
    public void await(long millis) throws InterruptedException {
      if (signal.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
        signal.drainPermits();
      }
    }

    @Override
    public void close() {
      subscriptions.computeIfPresent(runId, (k, set) -> {
        set.remove(this);
        return set.isEmpty() ? null : set;
      });
    }
  }
}
