package io.aryabhatta.runs;

import io.aryabhatta.db.WriteBatch;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Wakes the readers of a run's event stream in this process when new events commit. Readers also
 * poll the database, so events written by another node reach them too.
 */
public final class EventNotifier {
  private final ConcurrentHashMap<String, Set<Subscription>> subscriptions = new ConcurrentHashMap<>();
  /** The runs this process drives now (see {@link #driving}). */
  private final ConcurrentHashMap<String, Drive> drives = new ConcurrentHashMap<>();

  /**
   * The notice to give once the transaction that wrote an event has committed; {@code settles}:
   * the event ends the run's stream ({@link RunEvent#FINAL}).
   */
  public Runnable appended(String runId, boolean settles) {
    return () -> notify(runId, settles, null);
  }

  /** The same for a transaction that settles the run and read its row, which is handed to the waiters. */
  public Runnable settled(String runId, WriteBatch.Row<Run> run) {
    // The row is unread when the commit's answer was lost (it landed, as its token showed):
    // the waiters then read the run themselves.
    return () -> notify(runId, true, run.orNull());
  }

  /** Something happened to the run; it may have settled. */
  public void notify(String runId) {
    notify(runId, true, null);
  }

  private void notify(String runId, boolean settles, Run settled) {
    if (settles) {
      // Before the subscribers are woken: one that subscribed and then found no settling here
      // is woken by this notice.
      Drive drive = drives.get(runId);
      if (drive != null) {
        drive.mayHaveSettled = true;
      }
    }
    Set<Subscription> subs = subscriptions.get(runId);
    if (subs != null) {
      subs.forEach(s -> s.signal(settles, settled));
    }
  }

  /**
   * This process drives {@code runId} from now until the drive is closed. Meanwhile the notifier
   * knows whether the run may have settled here: while it has not, a row of the run that is not
   * settled is as current as a read would be, for only the loop holding a run's live lease settles
   * it. (A drive that lost its lease, to a node that then settles the run, is woken by the
   * settled-run watch, as any waiter on another node's run.)
   */
  public Drive driving(String runId) {
    Drive drive = new Drive(runId);
    drives.put(runId, drive);
    return drive;
  }

  /**
   * Whether this process drives {@code runId} and no transaction that may have settled it has
   * committed since the drive began. Asked after {@link #subscribe}: a settling that comes later
   * wakes the subscription.
   */
  public boolean drivenAndUnsettled(String runId) {
    Drive drive = drives.get(runId);
    return drive != null && !drive.mayHaveSettled;
  }

  /** One drive of a run by this process; closed when the drive ends. */
  public final class Drive implements AutoCloseable {
    private final String runId;
    private volatile boolean mayHaveSettled;

    private Drive(String runId) {
      this.runId = runId;
    }

    /**
     * The drive is over. Its waiters are woken to read the run: a drive can end without a settling
     * of its own (its lease was lost, or the database stayed out of reach), and another node may
     * settle the run then.
     */
    @Override
    public void close() {
      // A newer drive of the run here (it was claimed again) wakes its waiters itself.
      if (drives.remove(runId, this)) {
        EventNotifier.this.notify(runId);
      }
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
    private volatile boolean mayHaveSettled;
    private volatile Run settled;

    private Subscription(String runId) {
      this.runId = runId;
    }

    private void signal(boolean settles, Run settledRun) {
      if (settles) {
        mayHaveSettled = true;
        settled = settledRun;
      }
      signal.release();
    }

    /**
     * The run as the transaction that settled it left it, if that transaction ran in this process
     * since the last call (null: read it).
     */
    public Run takeSettled() {
      Run run = settled;
      settled = null;
      return run;
    }

    /** Waits until something new may be there, or the timeout passes. */
    public void await(long millis) throws InterruptedException {
      if (signal.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
        signal.drainPermits();
      }
    }

    /**
     * Waits until the run may have settled (an event that ends its stream committed here), or the
     * timeout passes: a waiter for the outcome need not re-read the run on every step.
     */
    public void awaitSettling(long millis) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      while (!mayHaveSettled) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !signal.tryAcquire(left, TimeUnit.NANOSECONDS)) {
          return;
        }
        signal.drainPermits();
      }
      mayHaveSettled = false;
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
