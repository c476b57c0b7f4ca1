package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a run's events as Server-Sent Events, from a given id on, live, until the run ends or
 * needs action. Events come from the database, so a reconnecting client (Last-Event-ID or
 * {@code ?after=}) gets every later event, also after a restart or from another node.
 */
public final class EventStream {
  private static final long KEEP_ALIVE_MILLIS = 15_000;
  private static final long POLL_MILLIS = 1_000;
  private static final int BATCH = 500;

  private final RunStore store;
  private final EventNotifier notifier;
  private final ObjectMapper mapper;

  public EventStream(RunStore store, EventNotifier notifier, ObjectMapper mapper) {
    this.store = store;
    this.notifier = notifier;
    this.mapper = mapper;
  }

  public void write(Context ctx, String workspaceId, String runId, long after) throws IOException {
    ctx.res().setStatus(200);
    ctx.res().setContentType("text/event-stream; charset=utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    OutputStream out = ctx.res().getOutputStream();
    out.write(": stream of run events\n\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
    long last = after;
    long lastWrite = System.currentTimeMillis();
    try (EventNotifier.Subscription subscription = notifier.subscribe(runId)) {
      while (true) {
        List<RunEvent> events = store.events(runId, last, BATCH);
        for (RunEvent event : events) {
          out.write(format(event).getBytes(StandardCharsets.UTF_8));
          last = event.id();
          if (event.isFinal()) {
            out.flush();
            return;
          }
        }
        if (!events.isEmpty()) {
          out.flush();
          lastWrite = System.currentTimeMillis();
          if (events.size() == BATCH) {
            continue;
          }
        } else if (settledWithNothingMore(workspaceId, runId, last)) {
          return;
        }
        if (System.currentTimeMillis() - lastWrite >= KEEP_ALIVE_MILLIS) {
          out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          lastWrite = System.currentTimeMillis();
        }
        subscription.await(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A client that asks for events after the last one of a run that has settled gets an empty stream. */
  private boolean settledWithNothingMore(String workspaceId, String runId, long last) {
    return store.run(workspaceId, runId).map(run -> run.settled() && store.events(runId, last, 1).isEmpty())
        .orElse(true);
  }

  private String format(RunEvent event) {
    return "id: " + event.id() + "\nevent: " + event.type() + "\ndata: " + Json.write(mapper, event.data()) + "\n\n";
  }
}
