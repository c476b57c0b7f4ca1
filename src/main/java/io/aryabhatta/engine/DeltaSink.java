package io.aryabhatta.engine;

import io.aryabhatta.db.WriteBatch;
import java.util.Map;

/**
 * Turns a model's token stream into {@code message.delta} events. The first delta of a streamed
 * answer is written at once (time to first token matters most); later ones are coalesced into one
 * event per {@link #WINDOW_NANOS} to keep the number of commits per answer small. The text of an
 * answer that is not streamed arrives whole, with the answer: it commits with the answer.
 */
final class DeltaSink {
  private static final long WINDOW_NANOS = 25_000_000;

  private final Journal journal;
  private final Lease lease;
  private final Journal.RunFacts facts;
  private final Execution execution;
  private final StringBuilder pending = new StringBuilder();
  private final boolean streamed;
  private long lastWrite = System.nanoTime() - WINDOW_NANOS;

  DeltaSink(Journal journal, Lease lease, Journal.RunFacts facts, Execution execution, boolean streamed) {
    this.facts = facts;
    this.streamed = streamed;
    this.execution = execution;
    this.journal = journal;
    this.lease = lease;
  }

  synchronized void accept(String text) {
    if (text == null || text.isEmpty()) {
      return;
    }
    pending.append(text);
    if (streamed && System.nanoTime() - lastWrite >= WINDOW_NANOS) {
      flush();
    }
  }

  synchronized void flush() {
    if (pending.isEmpty()) {
      return;
    }
    // Written on the model call's own thread: a cancel's interrupt must wait until the write is
    // done, or it would close the database connection under it.
    execution.beginWrite();
    try {
      journal.write(lease, facts, f -> {
        flush(f.w());
        return null;
      });
    } finally {
      execution.endWrite();
    }
  }

  /**
   * Writes the pending text in the caller's transaction, which must be fenced by the lease. The
   * text stays pending until that transaction commits: a transaction that is rolled back and run
   * again writes it again.
   */
  synchronized void flush(WriteBatch w) {
    if (pending.isEmpty()) {
      return;
    }
    String text = pending.toString();
    journal.events().appendEvent(w, lease.runId(), "message.delta", Map.of("text", text));
    journal.events().afterCommit(w, () -> written(text.length()));
  }

  private synchronized void written(int length) {
    pending.delete(0, length);
    lastWrite = System.nanoTime();
  }
}
