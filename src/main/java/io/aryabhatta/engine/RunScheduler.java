package io.aryabhatta.engine;

import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.db.WriteBatch;
import java.util.Collection;
import io.aryabhatta.tools.ToolDefinition;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.sql.SQLException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import io.aryabhatta.db.DatabaseErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Decides which runs this process drives. A run is claimed with a lease ({@code FOR UPDATE SKIP
 * LOCKED}, owner, epoch, expiry) renewed by a heartbeat; runs whose lease expired — their process
 * died or stalled — are taken over by any process. At most {@code maxConcurrent} runs execute at
 * once here; the rest wait in the queue, in the database.
 */
public final class RunScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunScheduler.class);

  private final Jdbi jdbi;
  private final AgentLoop loop;
  /** Told which runs this process drives, so that a waiter can tell whether one settled here. */
  private final EventNotifier notifier;
  private final String node;
  private final Duration lease;
  private final Semaphore slots;
  private final int maxConcurrent;
  private final ConcurrentHashMap<String, Execution> running = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final Duration pollInterval;
  private volatile boolean accepting = true;
  /** Slots reserved by runs being created, not yet started. */
  private final AtomicInteger startsPending = new AtomicInteger();
  /** Used by the heartbeat's thread only. */
  private volatile Handle heartbeat;

  public RunScheduler(Jdbi jdbi, AgentLoop loop, EventNotifier notifier, String node, Duration lease,
      int maxConcurrent, Duration pollInterval) {
    this.jdbi = jdbi;
    this.loop = loop;
    this.notifier = notifier;
    this.node = node;
    this.lease = lease;
    this.maxConcurrent = maxConcurrent;
    this.slots = new Semaphore(maxConcurrent);
    this.pollInterval = pollInterval;
    this.timer = Executors.newScheduledThreadPool(2, Thread.ofPlatform().daemon().name("scheduler-", 0).factory());
  }

  /** From here on this process claims queued runs and renews the leases of those it drives. */
  public RunScheduler start() {
    long heartbeat = Math.max(200, lease.toMillis() / 3);
    timer.scheduleWithFixedDelay(this::pollSafely, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(this::heartbeatSafely, heartbeat, heartbeat, TimeUnit.MILLISECONDS);
    return this;
  }

  public String node() {
    return node;
  }

  /** Starts a run here now if a slot is free; otherwise the poller (of any node) will. */
  public void submit(String runId) {
    if (!accepting || !slots.tryAcquire()) {
      return;
    }
    List<Lease> claimed;
    try {
      claimed = claim(runId, 1);
    } catch (RuntimeException e) {
      // The run is committed; the poller (of any node) claims it once the database answers.
      slots.release();
      log.warn("Run {}: could not be claimed now ({}); the poller will", runId, e.getMessage());
      return;
    }
    if (claimed.isEmpty()) {
      slots.release();
      return;
    }
    start(claimed.get(0), null);
  }

  /**
   * A slot for a run being created now: the run is then inserted already leased to this node
   * (its first epoch) and started as soon as it commits, without a claim transaction of its own.
   * Empty when every slot is taken (the run is queued; a poller claims it when one frees up).
   */
  public Optional<Reservation> reserve() {
    // Counted before the check, so that a shutdown beginning now waits for this creation.
    startsPending.incrementAndGet();
    if (!accepting || !slots.tryAcquire()) {
      startsPending.decrementAndGet();
      return Optional.empty();
    }
    return Optional.of(new Reservation());
  }

  /** A held slot: {@link #start} the run once its insert has committed, or {@link #cancel} it. */
  public final class Reservation {
    private boolean used;

    public String node() {
      return node;
    }

    /** The first claim of a run: the one its insert makes. */
    public long epoch() {
      return 1;
    }

    public double leaseSeconds() {
      return lease.toMillis() / 1000.0;
    }

    /** Begins the run in its creation's transaction {@code w} (see {@link AgentLoop#beginWithinCreation}). */
    public NewRun begin(WriteBatch w, NewRun run, Collection<ToolDefinition> tools) {
      return loop.beginWithinCreation(w, lease(run), run, tools);
    }

    public void start(NewRun run) {
      used = true;
      try {
        RunScheduler.this.start(lease(run), run);
      } finally {
        startsPending.decrementAndGet();
      }
    }

    private Lease lease(NewRun run) {
      return new Lease(run.state().id(), node, epoch());
    }

    public void cancel() {
      if (!used) {
        used = true;
        slots.release();
        startsPending.decrementAndGet();
      }
    }
  }

  /** Interrupts the run's model call if this process is waiting on one. */
  public void interrupt(String runId) {
    Execution execution = running.get(runId);
    if (execution != null) {
      execution.interruptModelCall();
    }
  }

  private void pollSafely() {
    try {
      int free = slots.availablePermits();
      if (!accepting || free == 0) {
        return;
      }
      int want = Math.min(free, 64);
      if (!slots.tryAcquire(want)) {
        return;
      }
      List<Lease> claimed;
      try {
        claimed = claim(null, want);
      } catch (RuntimeException e) {
        slots.release(want);
        throw e;
      }
      slots.release(want - claimed.size());
      claimed.forEach(lease -> start(lease, null));
    } catch (RuntimeException e) {
      log.warn("Claiming runs failed: {}", e.getMessage());
    }
  }

  /** Leases runs that no live lease holds, oldest first; rows another node is claiming are skipped. */
  private static final String CLAIM = """
      WITH claimable AS MATERIALIZED (
          SELECT id FROM runs
          WHERE status IN (%s)
            AND (lease_expires_at IS NULL OR lease_expires_at < now())
            AND (cast(:run AS text) IS NULL OR id = :run)
          ORDER BY created_at
          LIMIT :limit
          FOR UPDATE SKIP LOCKED)
      UPDATE runs r
      SET lease_owner = :node, lease_epoch = r.lease_epoch + 1,
          lease_expires_at = now() + make_interval(secs => :seconds)
      FROM claimable WHERE r.id = claimable.id
      RETURNING r.id, r.lease_epoch""".formatted(RunStatus.sqlList(RunStatus.CLAIMABLE));

  /** Claims one given run, or up to {@code limit} claimable runs in creation order. */
  private List<Lease> claim(String runId, int limit) {
    return jdbi.inTransaction(h -> h.createQuery(CLAIM)
        .bind("run", runId).bind("limit", limit).bind("node", node).bind("seconds", lease.toMillis() / 1000.0)
        .map((rs, c) -> new Lease(rs.getString("id"), node, rs.getLong("lease_epoch")))
        .list());
  }

  /** Drives the claimed run on a thread of its own; {@code known}: what its creation here knows, or null. */
  private void start(Lease claimed, NewRun known) {
    Execution[] execution = new Execution[1];
    // Open before the loop begins, so that its settling, however soon, is known here.
    EventNotifier.Drive driven = notifier.driving(claimed.runId());
    Thread thread = Thread.ofVirtual().name("run-" + claimed.runId()).unstarted(() -> {
      try (driven) {
        drive(claimed, execution[0], known);
      }
    });
    execution[0] = new Execution(thread);
    // A run this process drove and lost (its heartbeat was late) can be claimed again here; the
    // newer claim replaces the older, whose next write fails its fence.
    running.put(claimed.runId(), execution[0]);
    if (!accepting) {
      execution[0].stop();
    }
    thread.start();
  }

  private void drive(Lease claimed, Execution execution, NewRun known) {
    MDC.put("run_id", claimed.runId());
    try {
      loop.drive(claimed, execution, known);
      if (execution.stopping()) {
        // Stopped at a step boundary: nothing is in flight, so another process may resume it at once.
        release(claimed);
      }
    } catch (LeaseLostException e) {
      log.warn("Run {}: {}; stopping here", claimed.runId(), e.getMessage());
    } catch (JdbiException e) {
      if (DatabaseErrors.isOutage(e)) {
        // The database stayed out of reach longer than a write waits: the lease is left to
        // expire, so the run is resumed later (here or elsewhere), from what the journal holds.
        log.warn("Run {}: the database is unreachable ({}); it will be resumed when its lease expires",
            claimed.runId(), e.getClass().getSimpleName());
      } else {
        // A write the database refuses (a value it cannot store, a broken constraint) would be
        // refused again on every resumption: fail the run rather than repeat its steps forever.
        log.error("Run {}: the database refused a write (SQLSTATE {}); failing the run", claimed.runId(),
            DatabaseErrors.sqlState(e), e);
        loop.failAfterUnexpectedError(claimed, e);
      }
    } catch (RuntimeException e) {
      // A bug would hit again on every resumption (and could repeat model calls forever): fail the run.
      log.error("Run {}: unexpected failure; failing the run", claimed.runId(), e);
      loop.failAfterUnexpectedError(claimed, e);
    } catch (Exception e) {
      // A checked exception a library threw without declaring it (Kotlin code does): same as a bug.
      Thread.interrupted();
      log.error("Run {}: unexpected failure; failing the run", claimed.runId(), e);
      loop.failAfterUnexpectedError(claimed, new IllegalStateException(e));
    } finally {
      running.remove(claimed.runId(), execution);
      slots.release();
      MDC.remove("run_id");
    }
  }

  private void heartbeatSafely() {
    try {
      Set<String> held = Set.copyOf(running.keySet());
      if (held.isEmpty()) {
        return;
      }
      heartbeatConnection().createUpdate("""
              UPDATE runs SET lease_expires_at = now() + make_interval(secs => :seconds)
              WHERE lease_owner = :node AND id = ANY(:ids)""")
          .bind("seconds", lease.toMillis() / 1000.0).bind("node", node)
          .bindArray("ids", String.class, held)
          .execute();
    } catch (RuntimeException e) {
      log.warn("Lease heartbeat failed: {}", e.getMessage());
      closeHeartbeatConnection();
    }
  }

  /**
   * The heartbeat's own connection, kept open, so that runs using every connection of the pool
   * cannot make it wait (and their leases expire while they work). Opened again after a failure.
   */
  private Handle heartbeatConnection() {
    if (heartbeat == null) {
      Handle opened = jdbi.open();
      try {
        // A connection dropped without a word (a NAT, a failover) must fail the beat, not hang it.
        opened.getConnection().setNetworkTimeout(Runnable::run, (int) heartbeatTimeout().toMillis());
      } catch (SQLException e) {
        opened.close();
        throw new IllegalStateException("cannot set the heartbeat connection's timeout: " + e.getMessage(), e);
      }
      heartbeat = opened;
    }
    return heartbeat;
  }

  private void closeHeartbeatConnection() {
    Handle broken = heartbeat;
    heartbeat = null;
    if (broken != null) {
      try {
        broken.close();
      } catch (RuntimeException e) {
        // It is already broken; a new one is opened at the next beat.
      }
    }
  }

  private Duration heartbeatTimeout() {
    return Duration.ofMillis(Math.max(1_000, lease.toMillis() / 3));
  }

  /** Gives up this process's claim on a run it no longer drives. */
  private void release(Lease claimed) {
    try {
      jdbi.useHandle(h -> h.createUpdate("""
              UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL
              WHERE id = :id AND lease_owner = :node AND lease_epoch = :epoch""")
          .bind("id", claimed.runId()).bind("node", node).bind("epoch", claimed.epoch()).execute());
    } catch (RuntimeException e) {
      log.warn("Run {}: could not release its lease ({}); it expires on its own", claimed.runId(), e.getMessage());
    }
  }

  public int runningCount() {
    return running.size();
  }

  /**
   * Graceful shutdown: stop claiming and start nothing new; model and tool calls in flight go on
   * (each within its own timeout) for up to {@code grace}, their results commit, and each run
   * stops at its next step boundary and releases its lease, so that another process resumes it at
   * once. Leases keep being renewed meanwhile. A run whose call is still in flight when the grace
   * ends keeps its lease until it expires: no other process executes the run while that call may
   * still be running.
   */
  public void shutdown(Duration grace) {
    accepting = false;
    running.values().forEach(Execution::stop);
    long deadline = System.nanoTime() + grace.toNanos();
    try {
      // A run being created with a reserved slot is not running yet, but its first model call may
      // be opened already: its lease is not released under it.
      while ((!running.isEmpty() || startsPending.get() > 0) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    timer.shutdownNow();
    try {
      // A beat still running must not find its connection closed under it.
      timer.awaitTermination(heartbeatTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Set<String> inFlight = Set.copyOf(running.keySet());
    if (!inFlight.isEmpty()) {
      log.warn("{} run(s) still had a call in flight after {} s; their leases expire on their own in at most {} s: {}",
          inFlight.size(), grace.toSeconds(), lease.toSeconds(), inFlight);
    }
    try {
      int released = jdbi.withHandle(h -> h.createUpdate("""
              UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL
              WHERE lease_owner = :node AND NOT (id = ANY(:in_flight))""")
          .bind("node", node).bindArray("in_flight", String.class, inFlight).execute());
      if (released > 0) {
        log.info("Released {} run lease(s)", released);
      }
    } catch (RuntimeException e) {
      log.warn("Could not release leases: {}", e.getMessage());
    }
    closeHeartbeatConnection();
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10));
  }

  public int capacity() {
    return maxConcurrent;
  }
}
