package io.aryabhatta.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Reads a run the way a user checks it — its status, journal, conversation and events — through
 * an API that may belong to a server that is restarting (connection errors count as "not yet").
 */
public final class RunProbe {
  private final Http api;

  public RunProbe(Http api) {
    this.api = api;
  }

  public JsonNode run(String runId) {
    return api.get("/api/runs/" + runId).json();
  }

  public String status(String runId) {
    return run(runId).get("status").asText();
  }

  public List<JsonNode> steps(String runId) {
    return list(api.get("/api/runs/" + runId + "/steps?limit=200").json().get("data"));
  }

  public List<JsonNode> messages(String conversationId) {
    return list(api.get("/api/conversations/" + conversationId + "/messages?limit=200").json().get("data"));
  }

  public List<JsonNode> events(String runId) {
    return list(api.get("/api/runs/" + runId + "/events?format=json&limit=200").json().get("data"));
  }

  public List<String> eventTypes(String runId) {
    return events(runId).stream().map(e -> e.get("type").asText()).toList();
  }

  /** Starts a run of {@code agentId} without waiting; returns its id. */
  public String start(String agentId, String input) {
    Http.Response r = api.post("/api/agents/" + agentId + "/runs", java.util.Map.of("input", input));
    if (r.status() != 201) {
      throw new AssertionError("cannot start a run: " + r);
    }
    return r.json().get("id").asText();
  }

  /** Waits until the run has this status (the server may be down for part of the time). */
  public JsonNode awaitStatus(String runId, String status, Duration timeout) {
    return await(() -> {
      JsonNode run = run(runId);
      return run.get("status").asText().equals(status) ? run : null;
    }, timeout, () -> "run " + runId + " never reached " + status + ": " + safely(() -> run(runId)));
  }

  /**
   * Waits until the run has ended or waits for a person (any status but queued and running), and
   * returns it; a server that is down or answers an error counts as "not yet".
   */
  public JsonNode awaitSettled(String runId, Duration timeout) {
    return await(() -> {
      JsonNode run = RunWatch.read(api, runId);
      if (run == null) {
        return null;
      }
      String status = run.get("status").asText();
      return status.equals("queued") || status.equals("running") ? null : run;
    }, timeout, () -> "run " + runId + " did not settle within " + timeout + ": " + RunWatch.read(api, runId));
  }

  /** Polls {@code probe} until it returns non-null; connection errors count as null. */
  public static <T> T await(Supplier<T> probe, Duration timeout, Supplier<String> failure) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = safely(probe);
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(failure.get());
      }
      AgentSetup.sleep(50);
    }
  }

  public static <T> T safely(Supplier<T> probe) {
    try {
      return probe.get();
    } catch (IllegalStateException serverDown) {
      return null;
    }
  }

  private static List<JsonNode> list(JsonNode array) {
    List<JsonNode> list = new ArrayList<>();
    array.forEach(list::add);
    return list;
  }
}
