package io.aryabhatta.openai;

import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunStore;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The Server-Sent Events answers of the OpenAI-compatible API (chat completion chunks, response
 * events), drawn from a run's journal: its events are read in order as they commit and handed to
 * the stream's own handler, with a comment line every 15 s while nothing happens (a long tool).
 *
 * <p>Written directly to the response rather than through Javalin's {@code sse()}, which answers
 * only requests that send {@code Accept: text/event-stream}.
 */
final class RunEventFollower {
  private static final long KEEP_ALIVE_MILLIS = 15_000;
  private static final long POLL_MILLIS = 1_000;
  private static final int BATCH = 500;

  private final RunStore store;
  private final EventNotifier notifier;

  RunEventFollower(RunStore store, EventNotifier notifier) {
    this.store = store;
    this.notifier = notifier;
  }

  /** What a stream does with one event; true when the stream is over. */
  @FunctionalInterface
  interface Handler {
    boolean handle(RunEvent event) throws IOException;
  }

  /** Starts the answer as an event stream: its body, to write events to. */
  static OutputStream open(Context ctx) throws IOException {
    ctx.res().setStatus(200);
    ctx.res().setContentType("text/event-stream; charset=utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    return ctx.res().getOutputStream();
  }

  /**
   * Hands the run's events after {@code after} to {@code handler} until it ends the stream or
   * {@code maxWait} passes.
   *
   * @return true when the handler ended the stream, false when the wait ran out
   */
  boolean follow(String runId, long after, Duration maxWait, OutputStream out, Handler handler)
      throws IOException, InterruptedException {
    long lastEvent = after;
    long deadline = System.nanoTime() + maxWait.toNanos();
    long lastWrite = System.currentTimeMillis();
    try (EventNotifier.Subscription subscription = notifier.subscribe(runId)) {
      while (System.nanoTime() < deadline) {
        List<RunEvent> events = store.events(runId, lastEvent, BATCH);
        for (RunEvent event : events) {
          lastEvent = event.id();
          if (handler.handle(event)) {
            return true;
          }
        }
        if (!events.isEmpty()) {
          lastWrite = System.currentTimeMillis();
          if (events.size() == BATCH) {
            continue;
          }
        } else if (System.currentTimeMillis() - lastWrite >= KEEP_ALIVE_MILLIS) {
          write(out, ": keep-alive\n\n");
          lastWrite = System.currentTimeMillis();
        }
        subscription.await(POLL_MILLIS);
      }
    }
    return false;
  }

  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
