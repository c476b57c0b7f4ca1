package io.aryabhatta.triggers;

import io.aryabhatta.db.Constraints;
import io.aryabhatta.errors.DomainException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires due schedules, on every node: each tick's run is created in one transaction with the
 * tick's row ({@code schedule_ticks}, unique per schedule and tick) and the schedule's move to its
 * next tick, so when two nodes fire one tick, one commits and the other's run is rolled back.
 *
 * <p>A tick more than {@link #ON_TIME} late was missed (no node was up): a {@code run_once}
 * schedule then runs once, for the first tick it missed, and one that skips starts nothing; both
 * go on from the first tick after now.
 */
public final class ScheduleTicker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScheduleTicker.class);
  static final Duration ON_TIME = Duration.ofSeconds(10);
  private static final int BATCH = 100;
  private static final int MAX_ROUNDS = 10;

  private final TriggerService triggers;
  private final Clock clock;
  private final Duration pollEvery;
  private volatile boolean stopped;
  private Thread thread;

  public ScheduleTicker(TriggerService triggers, Clock clock, Duration pollEvery) {
    this.triggers = triggers;
    this.clock = clock;
    this.pollEvery = pollEvery;
  }

  public synchronized void start() {
    thread = Thread.ofVirtual().name("schedule-ticker").start(this::loop);
  }

  private void loop() {
    while (!stopped) {
      try {
        fireDue();
      } catch (RuntimeException e) {
        log.warn("could not fire due schedules, retrying: {}", e.toString());
      }
      // Parked rather than slept: close wakes it without interrupting a database call.
      LockSupport.parkNanos(pollEvery.toNanos());
    }
  }

  /**
   * Fires every due tick: a schedule due again once its tick is fired (ticks closer together than
   * a round takes) is fired again in the next round rather than after the next poll, so that it
   * does not fall behind.
   */
  void fireDue() {
    for (int round = 0; round < MAX_ROUNDS && !stopped; round++) {
      List<Trigger> due = triggers.dueSchedules(BATCH);
      if (due.isEmpty()) {
        return;
      }
      for (Trigger schedule : due) {
        if (stopped) {
          return;
        }
        fire(schedule, clock.instant());
      }
    }
  }

  private void fire(Trigger schedule, Instant now) {
    CronSchedule cron = schedule.schedule();
    Instant tick = schedule.nextFireAt();
    boolean onTime = Duration.between(tick, now).compareTo(ON_TIME) < 0;
    Optional<Instant> next = cron.nextAfter(onTime ? tick : now);
    if (!onTime && schedule.missed() == MissedTicks.SKIP) {
      log.info("schedule {} skips the ticks it missed from {} on", schedule.id(), tick);
      triggers.moveOn(schedule, tick, next.orElse(null));
      return;
    }
    startTick(schedule, tick, next.orElse(null));
  }

  private void startTick(Trigger schedule, Instant tick, Instant next) {
    PayloadTemplate.Run filled = PayloadTemplate.fillRun(schedule.inputTemplate(), schedule.variableTemplates(),
        triggers.tickPayload(schedule, tick));
    try {
      triggers.start(schedule, filled.input(), filled.variables(), (w, runId) -> {
        // A batch binds instants as text, cast back by the database.
        w.statement("""
                INSERT INTO schedule_ticks (trigger_id, tick_at, run_id)
                VALUES (:t, cast(:tick AS timestamptz), :r)""")
            .bind("t", schedule.id()).bind("tick", tick.toString()).bind("r", runId).execute();
        w.statement("""
                UPDATE triggers SET next_fire_at = cast(:next AS timestamptz)
                 WHERE id = :t AND next_fire_at = cast(:tick AS timestamptz)""")
            .bind("next", next == null ? null : next.toString()).bind("t", schedule.id())
            .bind("tick", tick.toString()).execute();
      });
    } catch (DomainException e) {
      // The agent is gone, its named conversation has a run still active, …: the tick passes.
      log.warn("schedule {} started no run for its tick at {}: {}", schedule.id(), tick, e.detail());
      triggers.moveOn(schedule, tick, next);
    } catch (RuntimeException e) {
      if (!Constraints.isUniqueViolation(e)) {
        throw e;
      }
      // The tick has been fired (by another node just now, or before the schedule was set back to
      // it): its run exists, so the schedule goes on from it rather than trying it again forever.
      triggers.moveOn(schedule, tick, next);
    }
  }

  @Override
  public void close() {
    Thread stopping;
    synchronized (this) {
      stopped = true;
      stopping = thread;
    }
    if (stopping != null) {
      LockSupport.unpark(stopping);
      try {
        stopping.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
