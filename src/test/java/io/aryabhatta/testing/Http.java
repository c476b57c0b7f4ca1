package io.aryabhatta.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A small real HTTP client for tests, authenticated with one API key. */
public final class Http {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
  public static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final String key;

  public Http(String baseUrl, String key) {
    this.baseUrl = baseUrl;
    this.key = key;
  }

  public record Response(int status, java.net.http.HttpHeaders headers, String text) {
    public JsonNode json() {
      try {
        return JSON.readTree(text);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + text, e);
      }
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + text;
    }
  }

  public Response get(String path) {
    return send(request(path).GET());
  }

  public Response delete(String path) {
    return send(request(path).DELETE());
  }

  public Response post(String path, Object body) {
    return send(request(path).header("Content-Type", "application/json").POST(publisher(body)));
  }

  public Response patch(String path, Object body) {
    return send(request(path).header("Content-Type", "application/json").method("PATCH", publisher(body)));
  }

  public Response post(String path, Object body, Map<String, String> headers) {
    HttpRequest.Builder b = request(path).POST(publisher(body));
    if (!headers.containsKey("Content-Type")) {
      b.header("Content-Type", "application/json");
    }
    headers.forEach(b::header);
    return send(b);
  }

  public Response send(String method, String path, String body, Map<String, String> headers) {
    HttpRequest.Builder b = request(path).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return send(b);
  }

  private static HttpRequest.BodyPublisher publisher(Object body) {
    try {
      String text = body instanceof String s ? s : JSON.writeValueAsString(body);
      return HttpRequest.BodyPublishers.ofString(text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(60));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return b;
  }

  private static Response send(HttpRequest.Builder builder) {
    try {
      HttpResponse<String> r = CLIENT.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
