package io.aryabhatta.runs;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds which of the runs that clients wait on have settled on another node. A run this process
 * drives wakes its waiters itself when it settles ({@link EventNotifier}); one driven elsewhere
 * (or still queued for a free slot on any node) does not. Rather than each waiter reading its run
 * every second — a thousand waiters, a thousand reads a second — the runs waited on are checked
 * together, in one query per interval, and the waiters of those found settled are woken.
 *
 * <p>A waiter still reads its run now and then by itself ({@link #recheckMillis}): rarely while
 * the watch works, every second once it has been closed (the process is stopping, and the runs it
 * hands over settle elsewhere).
 */
public final class SettledWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SettledWatch.class);
  private static final String SETTLED = RunStatus.sqlList(RunStatus.SETTLED);

  private final Jdbi jdbi;
  private final EventNotifier notifier;
  private final Duration interval;
  /** The runs waited on, with how many waiters each. */
  private final ConcurrentHashMap<String, Integer> awaited = new ConcurrentHashMap<>();
  private ScheduledExecutorService timer;
  private volatile boolean closed;

  public SettledWatch(Jdbi jdbi, EventNotifier notifier, Duration interval) {
    this.jdbi = jdbi;
    this.notifier = notifier;
    this.interval = interval;
  }

  /** From here on the runs waited on are checked every interval. */
  public synchronized void start() {
    if (timer == null) {
      timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("settled-watch").factory());
      timer.scheduleWithFixedDelay(this::checkSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** A waiter for {@code runId}'s outcome; close it when done waiting. */
  public Waiting await(String runId) {
    awaited.merge(runId, 1, Integer::sum);
    AtomicBoolean done = new AtomicBoolean();
    return () -> {
      if (done.compareAndSet(false, true)) {
        awaited.computeIfPresent(runId, (id, waiters) -> waiters == 1 ? null : waiters - 1);
      }
    };
  }

  /**
   * How long a waiter may wait before it reads its run itself: a bound in case the watch fails,
   * and the old poll of a second once it is closed.
   */
  public long recheckMillis() {
    return closed ? 1_000 : 10_000;
  }

  /** A registration in the watch. */
  @FunctionalInterface
  public interface Waiting extends AutoCloseable {
    @Override
    void close();
  }

  /** Wakes the waiters of the runs waited on that have settled. */
  void check() {
    if (awaited.isEmpty()) {
      return;
    }
    String[] ids = awaited.keySet().toArray(String[]::new);
    List<String> settled = jdbi.withHandle(h -> h.createQuery(
            "SELECT id FROM runs WHERE id = ANY(:ids) AND status IN (" + SETTLED + ")")
        .bindArray("ids", String.class, (Object[]) ids).mapTo(String.class).list());
    settled.forEach(notifier::notify);
  }

  private void checkSafely() {
    try {
      check();
    } catch (Throwable e) {
      // Caught whatever it is, or the timer would stop for good; the waiters read their run
      // themselves meanwhile (recheckMillis).
      log.warn("Checking the runs waited on failed: {}", e.toString());
    }
  }

  /** Stops checking; the waiters are woken to read their runs, and from now on poll every second. */
  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.shutdownNow();
      timer = null;
    }
    awaited.keySet().forEach(notifier::notify);
  }
}
