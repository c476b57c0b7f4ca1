package io.aryabhatta.embed;

import io.aryabhatta.runs.RunEvent;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a run's events to a listener, in order, on a virtual thread of its own, until the
 * stream ends (see {@link RunEvents}) or the subscription is closed. A listener that throws ends
 * the subscription, so it never misses an event silently.
 */
public final class EventSubscription implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventSubscription.class);

  private final RunEvents events;
  private final CountDownLatch finished = new CountDownLatch(1);

  EventSubscription(String runId, RunEvents events, Consumer<RunEvent> listener) {
    this.events = events;
    Thread.ofVirtual().name("events-" + runId).start(() -> deliver(runId, listener));
  }

  private void deliver(String runId, Consumer<RunEvent> listener) {
    try (events) {
      while (events.hasNext()) {
        listener.accept(events.next());
      }
    } catch (RuntimeException e) {
      log.warn("Event listener of run {} failed; the subscription ends", runId, e);
    } finally {
      finished.countDown();
    }
  }

  /**
   * Waits until the last event has been delivered (the stream ended or the subscription was
   * closed). Returns false if {@code timeout} passed first.
   */
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The id of the last event delivered: where a new subscription would read on from. */
  public long lastId() {
    return events.lastId();
  }

  /** Stops delivering; an event being delivered is finished first. */
  @Override
  public void close() {
    events.close();
  }
}
