package io.aryabhatta.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches one run from the outside, as a user polling its API would, and remembers every state it
 * was seen in ({@code status}, or {@code requires_action:<type>}), in order, without repeats. A
 * server that is down or answers an error only makes a poll count for nothing.
 */
public final class RunWatch implements AutoCloseable {
  private final Http api;
  private final String runId;
  private final List<String> seen = new ArrayList<>();
  private final Thread thread;
  private volatile boolean stopped;

  private RunWatch(Http api, String runId) {
    this.api = api;
    this.runId = runId;
    this.thread = Thread.ofVirtual().name("watch-" + runId).start(this::poll);
  }

  /** Starts polling the run every 100 ms through {@code api}. */
  public static RunWatch start(Http api, String runId) {
    return new RunWatch(api, runId);
  }

  /** The states seen so far, in order, consecutive repeats removed. */
  public List<String> states() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** Whether the run was ever seen in this status (e.g. {@code requires_action}). */
  public boolean saw(String status) {
    return states().stream().anyMatch(s -> s.equals(status) || s.startsWith(status + ":"));
  }

  /** The run as the API shows it now, or null when the server cannot answer. */
  public static JsonNode read(Http api, String runId) {
    try {
      Http.Response r = api.get("/api/runs/" + runId);
      if (r.status() != 200) {
        return null;
      }
      JsonNode run = r.json();
      return run.hasNonNull("status") ? run : null;
    } catch (IllegalStateException | AssertionError serverDown) {
      return null;
    }
  }

  /** How a run's state is written in {@link #states}. */
  public static String state(JsonNode run) {
    String status = run.get("status").asText();
    return status.equals("requires_action") ? status + ":" + run.at("/required_action/type").asText() : status;
  }

  private void poll() {
    while (!stopped) {
      JsonNode run = read(api, runId);
      if (run != null) {
        String state = state(run);
        synchronized (seen) {
          if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(state)) {
            seen.add(state);
          }
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
