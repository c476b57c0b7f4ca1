package io.aryabhatta.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Defines, over the real API, a provider pointing at a fake model server and agents using it. */
public final class AgentSetup {
  private final Http api;
  private int counter;

  public AgentSetup(Http api, FakeModelServer fake) {
    this.api = api;
    expectCreated(api.post("/api/secrets", Map.of("name", "FAKE_KEY", "value", FakeModelServer.API_KEY)));
    expectCreated(api.post("/api/providers",
        Map.of("name", "fake", "base_url", fake.baseUrl(), "api_key_secret", "FAKE_KEY")));
  }

  public String agent(List<String> tools, Map<String, Object> extra) {
    Map<String, Object> body = new HashMap<>();
    body.put("name", "agent-" + (++counter) + "-" + System.nanoTime() % 100000);
    body.put("system_prompt", "You are a test agent.");
    body.put("model", Map.of("provider", "fake", "name", FakeModelServer.MODEL));
    body.put("tools", tools);
    body.putAll(extra);
    return expectCreated(api.post("/api/agents", body)).get("id").asText();
  }

  public String httpTool(String name, String method, String url, Map<String, Object> extra) {
    Map<String, Object> body = new HashMap<>();
    body.put("name", name);
    body.put("kind", "http");
    body.put("description", "test tool " + name);
    body.put("parameters", Map.of("type", "object",
        "properties", Map.of("q", Map.of("type", "string")), "required", List.of("q")));
    body.put("http", Map.of("method", method, "url", url, "timeout_ms", 10000));
    body.putAll(extra);
    return expectCreated(api.post("/api/tools", body)).get("id").asText();
  }

  public String clientTool(String name) {
    Map<String, Object> parameters =
        Map.of("type", "object", "properties", Map.of("question", Map.of("type", "string")));
    return expectCreated(api.post("/api/tools",
        Map.of("name", name, "kind", "client", "description", "asks the app", "parameters", parameters)))
        .get("id").asText();
  }

  /** Polls the run until it settles (ended or waiting for a person). */
  public JsonNode awaitSettled(String runId) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode run = api.get("/api/runs/" + runId).json();
      String status = run.get("status").asText();
      if (!status.equals("queued") && !status.equals("running") && !status.equals("waiting")) {
        return run;
      }
      sleep(50);
    }
    throw new AssertionError("run " + runId + " did not settle: " + api.get("/api/runs/" + runId));
  }

  public JsonNode awaitStatus(String runId, String status) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode run = api.get("/api/runs/" + runId).json();
      if (run.get("status").asText().equals(status)) {
        return run;
      }
      sleep(50);
    }
    throw new AssertionError("run " + runId + " never reached " + status + ": " + api.get("/api/runs/" + runId));
  }

  /** The delivery of the run's callback once it has the status {@code status} (waits up to 30 s). */
  public JsonNode awaitCallback(String runId, String status) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Http.Response last = null;
    while (System.nanoTime() < deadline) {
      last = api.get("/api/runs/" + runId + "/callback");
      if (last.status() == 200 && last.json().get("status").asText().equals(status)) {
        return last.json();
      }
      sleep(100);
    }
    throw new AssertionError("the callback of run " + runId + " never became " + status + ": " + last);
  }

  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static JsonNode expectCreated(Http.Response r) {
    assertThat(r.status()).as(r.toString()).isIn(200, 201);
    return r.json();
  }
}
