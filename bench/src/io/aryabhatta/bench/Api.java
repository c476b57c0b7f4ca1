package io.aryabhatta.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The benchmark's HTTP client of the Aryabhatta API (admin key, JSON in and out). */
final class Api {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PlainHttp http;
  private final Map<String, String> headers;

  Api(int port, String key) {
    this.http = new PlainHttp("127.0.0.1", port);
    this.headers = Map.of("Authorization", "Bearer " + key, "Content-Type", "application/json");
  }

  /** A whole answer: status and body text. */
  record Response(int statusCode, String body) {}

  /** POSTs JSON and returns the answer's JSON; a non-2xx answer is an exception with its body. */
  JsonNode post(String path, Object body) {
    Response response = send("POST", path, bodyOf(body));
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("POST " + path + " -> " + response.statusCode() + ": " + response.body());
    }
    return read(response.body());
  }

  String getText(String path) {
    return send("GET", path, null).body();
  }

  /** A run answered when it settles ({@code ?wait=true}): the run's JSON, or an error text. */
  Response startAndWait(String agentId, String input) {
    return send("POST", "/api/agents/" + agentId + "/runs?wait=true&timeout=300", bodyOf(Map.of("input", input)));
  }

  /** What a streaming client sees of one run. */
  record Streamed(String runId, long firstDeltaNanos, boolean completed, String problem) {}

  /** Starts a run with {@code ?stream=true} and reads its SSE events until the stream ends. */
  Streamed startAndStream(String agentId, String input) {
    Map<String, String> streamHeaders = new HashMap<>(headers);
    streamHeaders.put("Accept", "text/event-stream");
    try (PlainHttp.Response response = http.send("POST", "/api/agents/" + agentId + "/runs?stream=true",
        streamHeaders, bodyOf(Map.of("input", input)))) {
      if (response.status != 200) {
        response.text();
        return new Streamed(null, 0, false, "HTTP " + response.status);
      }
      String runId = null;
      long firstDelta = 0;
      String event = null;
      BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
          if (event.equals("message.delta") && firstDelta == 0) {
            firstDelta = System.nanoTime();
          }
        } else if (line.startsWith("data: ") && "run.created".equals(event)) {
          runId = read(line.substring(6)).path("run_id").asText();
        } else if (line.startsWith("data: ") && "run.completed".equals(event)) {
          return new Streamed(runId, firstDelta, true, null);
        } else if (line.startsWith("data: ") && event != null && event.startsWith("run.")
            && !event.equals("run.created") && !event.equals("run.running")) {
          return new Streamed(runId, firstDelta, false, event + " " + line.substring(6));
        }
      }
      return new Streamed(runId, firstDelta, false, "the stream ended before run.completed");
    } catch (IOException e) {
      return new Streamed(null, 0, false, e.toString());
    }
  }

  static JsonNode read(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bodyOf(Object body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Response send(String method, String path, byte[] body) {
    try (PlainHttp.Response response = http.send(method, path, headers, body)) {
      return new Response(response.status, response.text());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
