package io.aryabhatta.callbacks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.callbacks.CallbackDeliveries.AttemptResult;
import io.aryabhatta.callbacks.CallbackDeliveries.Claimed;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStore;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the callbacks of ended runs: claims the deliveries that are due (any process may, one at
 * a time each), sends each on a virtual thread of its own and records the attempt. It polls every
 * {@code pollEvery}, and is woken sooner when a run of this process ends with a callback.
 */
public final class CallbackWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CallbackWorker.class);
  /** Deliveries sent at once by this process; the rest wait for a free one. */
  private static final int MAX_IN_FLIGHT = 64;

  private final Jdbi jdbi;
  private final CallbackDeliveries deliveries;
  private final CallbackSender sender;
  private final CallbackSecrets secrets;
  private final RunStore runs;
  private final ObjectMapper mapper;
  private final String node;
  private final DeliveryPolicy policy;
  private final Duration pollEvery;
  private final Semaphore wakeUp = new Semaphore(0);
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private volatile boolean running;
  private Thread thread;

  CallbackWorker(Jdbi jdbi, CallbackDeliveries deliveries, CallbackSender sender, CallbackSecrets secrets,
      RunStore runs, ObjectMapper mapper, String node, DeliveryPolicy policy, Duration pollEvery) {
    this.jdbi = jdbi;
    this.deliveries = deliveries;
    this.sender = sender;
    this.secrets = secrets;
    this.runs = runs;
    this.mapper = mapper;
    this.node = node;
    this.policy = policy;
    this.pollEvery = pollEvery;
  }

  public synchronized void start() {
    running = true;
    thread = Thread.ofVirtual().name("callbacks-" + node).start(this::loop);
  }

  /** A callback was queued by a transaction that has committed: look now rather than at the next poll. */
  public void wake() {
    wakeUp.release();
  }

  private void loop() {
    while (running) {
      try {
        claimAndSend();
        wakeUp.tryAcquire(pollEvery.toMillis(), TimeUnit.MILLISECONDS);
        wakeUp.drainPermits();
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // The database may be away: the next poll tries again.
        log.warn("Claiming callbacks failed: {}", e.toString());
        sleepQuietly();
      }
    }
  }

  private void claimAndSend() {
    int free = inFlight.availablePermits();
    if (free == 0) {
      return;
    }
    for (Claimed claimed : deliveries.claimDue(node, policy.lease(), free)) {
      inFlight.acquireUninterruptibly();
      Thread.ofVirtual().name("callback-" + claimed.id()).start(() -> {
        try {
          attempt(claimed);
        } catch (RuntimeException e) {
          // Left claimed: once the claim expires, the attempt is recorded as interrupted and made again.
          log.warn("Callback {} of run {}: the attempt could not be recorded: {}", claimed.id(), claimed.runId(),
              e.toString());
        } finally {
          inFlight.release();
        }
      });
    }
  }

  private void attempt(Claimed claimed) {
    if (!policy.allowsAnotherAfter(claimed.attemptsMade())) {
      deliveries.giveUp(claimed, node);
      return;
    }
    Run run = jdbi.withHandle(h -> runs.run(h, claimed.runId()));
    String body = Json.write(mapper, run);
    AttemptResult result = sender.send(claimed.url(), claimed.id(), body, secrets.signingSecret(claimed.workspaceId()));
    if (!running) {
      // Stopping: the attempt is not recorded, and is made again once its claim is let go.
      return;
    }
    int made = claimed.attemptsMade() + 1;
    DeliveryStatus next = result.delivered() ? DeliveryStatus.DELIVERED
        : policy.allowsAnotherAfter(made) ? DeliveryStatus.PENDING : DeliveryStatus.FAILED;
    Duration wait = next == DeliveryStatus.PENDING ? policy.waitAfter(made) : Duration.ZERO;
    deliveries.recordAttempt(claimed, node, result, next, wait);
    if (next == DeliveryStatus.FAILED) {
      log.warn("Callback {} of run {} failed after {} attempts (last: {})", claimed.id(), claimed.runId(), made,
          result.statusCode() != null ? "status " + result.statusCode() : result.error());
    }
  }

  private void sleepQuietly() {
    try {
      Thread.sleep(pollEvery.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /**
   * Stops claiming; attempts in flight are not recorded, and their claims are let go so that any
   * process makes them again at once (the receiver may get one twice, with the same delivery id).
   */
  @Override
  public synchronized void close() {
    if (thread == null) {
      return;
    }
    running = false;
    thread.interrupt();
    try {
      thread.join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      deliveries.release(node);
    } catch (RuntimeException e) {
      log.warn("Letting this process's callback claims go failed (they expire on their own): {}", e.toString());
    }
    thread = null;
  }
}
