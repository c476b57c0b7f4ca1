package io.aryabhatta.embed;

import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunStore;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Supplier;

/**
 * A run's events in order, read from the journal as they commit: the same stream as
 * {@code GET /api/runs/{id}/events}, so events written by another process sharing the database
 * arrive too. {@link #hasNext} blocks until the next event; the iteration ends after
 * {@code run.completed}, {@code run.failed}, {@code run.cancelled} or {@code run.requires_action}
 * (after acting on a run that waits, read on from the last event's id), or at once when the run
 * has settled and has no event after the given id.
 *
 * <p>Not thread-safe, except {@link #close}, which may be called from any thread to stop a reader
 * blocked in {@link #hasNext}.
 */
public final class RunEvents implements Iterator<RunEvent>, AutoCloseable {
  private static final long POLL_MILLIS = 1_000;
  private static final int BATCH = 500;

  private final RunStore store;
  private final EventNotifier notifier;
  private final String runId;
  private final Supplier<Run> currentRun;
  private final EventNotifier.Subscription wakeUps;
  private final ArrayDeque<RunEvent> buffered = new ArrayDeque<>();
  private long readUpTo;
  private long lastDelivered;
  private boolean ended;
  private volatile boolean closed;

  RunEvents(RunStore store, EventNotifier notifier, String runId, long afterId, Supplier<Run> currentRun) {
    this.store = store;
    this.notifier = notifier;
    this.runId = runId;
    this.currentRun = currentRun;
    this.readUpTo = afterId;
    this.lastDelivered = afterId;
    this.wakeUps = notifier.subscribe(runId);
  }

  /**
   * Waits for the next event. False when the stream has ended, this was closed, or the thread was
   * interrupted (its interrupt flag is then set again).
   */
  @Override
  public boolean hasNext() {
    while (buffered.isEmpty()) {
      if (ended || closed) {
        return false;
      }
      List<RunEvent> events = store.events(runId, readUpTo, BATCH);
      if (!events.isEmpty()) {
        buffered.addAll(events);
        readUpTo = events.getLast().id();
      } else if (currentRun.get().settled() && store.events(runId, readUpTo, 1).isEmpty()) {
        ended = true;
      } else {
        try {
          wakeUps.await(POLL_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          close();
        }
      }
    }
    return true;
  }

  @Override
  public RunEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the run's event stream has ended");
    }
    RunEvent event = buffered.poll();
    lastDelivered = event.id();
    if (event.isFinal()) {
      buffered.clear();
      ended = true;
    }
    return event;
  }

  /** The id of the last event returned by {@link #next} (or the starting id): where to read on from. */
  public long lastId() {
    return lastDelivered;
  }

  @Override
  public void close() {
    closed = true;
    notifier.notify(runId); // wakes a reader waiting in hasNext, which then sees that it is closed
    wakeUps.close();
  }
}
