package io.aryabhatta.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;

/** The benchmark's HTTP client of the Aryabhatta API (admin key, JSON in and out). */
final class Api {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10))
      .executor(Executors.newVirtualThreadPerTaskExecutor())
      .build();
  private final String base;
  private final String key;

  Api(int port, String key) {
    this.base = "http://127.0.0.1:" + port;
    this.key = key;
  }

  /** POSTs JSON and returns the answer's JSON; a non-2xx answer is an exception with its body. */
  JsonNode post(String path, Object body) {
    HttpResponse<String> response = send(request(path).POST(bodyOf(body)).build());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("POST " + path + " -> " + response.statusCode() + ": " + response.body());
    }
    return read(response.body());
  }

  String getText(String path) {
    return send(request(path).GET().build()).body();
  }

  /** A run answered when it settles ({@code ?wait=true}): the run's JSON, or an error text. */
  HttpResponse<String> startAndWait(String agentId, String input) {
    return send(request("/api/agents/" + agentId + "/runs?wait=true&timeout=300")
        .POST(bodyOf(java.util.Map.of("input", input))).build());
  }

  /** What a streaming client sees of one run. */
  record Streamed(String runId, long firstDeltaNanos, boolean completed, String problem) {}

  /** Starts a run with {@code ?stream=true} and reads its SSE events until the stream ends. */
  Streamed startAndStream(String agentId, String input) {
    HttpRequest request = request("/api/agents/" + agentId + "/runs?stream=true")
        .header("Accept", "text/event-stream")
        .POST(bodyOf(java.util.Map.of("input", input))).build();
    try {
      HttpResponse<java.io.InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      if (response.statusCode() != 200) {
        return new Streamed(null, 0, false, "HTTP " + response.statusCode());
      }
      String runId = null;
      long firstDelta = 0;
      String event = null;
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
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
      }
      return new Streamed(runId, firstDelta, false, "the stream ended before run.completed");
    } catch (IOException e) {
      return new Streamed(null, 0, false, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Streamed(null, 0, false, "interrupted");
    }
  }

  static JsonNode read(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .timeout(Duration.ofMinutes(6));
  }

  private static HttpRequest.BodyPublisher bodyOf(Object body) {
    try {
      return HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
