package io.aryabhatta.engine;

import io.aryabhatta.db.WriteBatch;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.MDC;

/**
 * Turns a model's token stream into {@code message.delta} events. The first delta of a streamed
 * answer is written at once (time to first token matters most); later ones are coalesced into one
 * event per {@link #WINDOW_NANOS} to keep the number of commits per answer small. The text of an
 * answer that is not streamed arrives whole, with the answer: it commits with the answer.
 *
 * <p>A delta is written by a thread of its own, one write at a time, so that reading the model's
 * stream never waits for a commit. Text that no write has taken when the answer is complete goes
 * with the answer's own commit: a write not yet begun by then is dropped, not made (an answer that
 * arrives in one burst costs one commit, not two). {@link #settle} ends the sink before the loop
 * writes again, so the deltas are always numbered before the answer. A delta write that fails
 * (the lease lost, the database gone for longer than the journal waits) fails the model call as
 * the loop's own write would: the next text that arrives, or the settling, throws its error, and
 * no further delta is written.
 */
final class DeltaSink {
  private static final long WINDOW_NANOS = 25_000_000;

  private enum State {
    /** No write of a delta is asked for or under way. */
    IDLE,
    /** A write is asked for and has not taken the pending text yet: {@link #settle} cancels it. */
    ASKED,
    /** A write has taken the pending text and is committing it: {@link #settle} waits for it. */
    WRITING,
    /** A write failed: nothing more is written, and the model call fails with its error. */
    FAILED,
    /** Settled: the text still pending is written with the answer, by the loop. */
    SETTLED
  }

  private final Journal journal;
  private final Lease lease;
  private final Journal.RunFacts facts;
  private final StringBuilder pending = new StringBuilder();
  private final boolean streamed;
  // A lock rather than a monitor: a virtual thread waiting on a monitor holds its carrier (JDK 21 to 23).
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition writeEnded = lock.newCondition();
  private State state = State.IDLE;
  private RuntimeException failure;
  private long lastWrite = System.nanoTime() - WINDOW_NANOS;

  DeltaSink(Journal journal, Lease lease, Journal.RunFacts facts, boolean streamed) {
    this.facts = facts;
    this.streamed = streamed;
    this.journal = journal;
    this.lease = lease;
  }

  /** Text of the answer, as the model writes it (called on the model call's thread). */
  void accept(String text) {
    if (text == null || text.isEmpty()) {
      return;
    }
    lock.lock();
    try {
      throwIfFailed();
      pending.append(text);
      if (streamed && state == State.IDLE && System.nanoTime() - lastWrite >= WINDOW_NANOS) {
        state = State.ASKED;
        Thread.ofVirtual().name("deltas-" + lease.runId()).start(this::writeAsked);
      }
    } finally {
      lock.unlock();
    }
  }

  private void writeAsked() {
    String text;
    lock.lock();
    try {
      if (state != State.ASKED) {
        return;
      }
      state = State.WRITING;
      text = pending.toString();
    } finally {
      lock.unlock();
    }
    RuntimeException failed = null;
    // The journal's log lines about this write name the run, as the run's own thread's do.
    MDC.put("run_id", lease.runId());
    try {
      commitAlone(text);
    } catch (RuntimeException e) {
      failed = e;
    } finally {
      MDC.remove("run_id");
      lock.lock();
      try {
        // Nothing else changes a state that is WRITING: settle waits for it.
        failure = failed;
        state = failed != null ? State.FAILED : State.IDLE;
        writeEnded.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * The model call is over: a write of a delta not begun yet is not made, and one under way is
   * waited for, so that the loop's next write numbers its events after it. What is still pending
   * is written by {@link #flush(WriteBatch)}, with the answer, or by {@link #flush()}.
   *
   * @throws RuntimeException the error of a delta write that failed
   */
  void settle() {
    lock.lock();
    try {
      // The write under way has its own bound (the journal's outage bound): it is waited out.
      while (state == State.WRITING) {
        writeEnded.awaitUninterruptibly();
      }
      throwIfFailed();
      state = State.SETTLED;
    } finally {
      lock.unlock();
    }
  }

  /** Settles, then commits the pending text on its own (when there is no answer to go with). */
  void flush() {
    settle();
    String text = pendingText();
    if (!text.isEmpty()) {
      commitAlone(text);
    }
  }

  /** {@code text} as a delta of its own, in a fenced transaction of its own. */
  private void commitAlone(String text) {
    journal.write(lease, facts, f -> {
      append(f.w(), text);
      return null;
    });
  }

  /**
   * Writes the pending text in the caller's transaction, which must be fenced by the lease; only
   * once settled. The text stays pending until that transaction commits: a transaction that is
   * rolled back and run again writes it again.
   */
  void flush(WriteBatch w) {
    String text = pendingText();
    if (!text.isEmpty()) {
      append(w, text);
    }
  }

  private String pendingText() {
    lock.lock();
    try {
      if (state != State.SETTLED) {
        throw new IllegalStateException("the pending deltas are written by the loop only once settled");
      }
      return pending.toString();
    } finally {
      lock.unlock();
    }
  }

  private void throwIfFailed() {
    if (state != State.FAILED) {
      return;
    }
    if (failure instanceof LeaseLostException) {
      throw new LeaseLostException(lease.runId(), "a message delta's write found the lease lost");
    }
    throw failure;
  }

  private void append(WriteBatch w, String text) {
    journal.events().appendEvent(w, lease.runId(), "message.delta", Map.of("text", text));
    journal.events().afterCommit(w, () -> written(text.length()));
  }

  private void written(int length) {
    lock.lock();
    try {
      pending.delete(0, length);
      lastWrite = System.nanoTime();
    } finally {
      lock.unlock();
    }
  }
}
