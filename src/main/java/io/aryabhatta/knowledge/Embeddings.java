package io.aryabhatta.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.json.Json;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.model.ModelEndpoint;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Vectors of texts from a provider's OpenAI-compatible {@code POST /embeddings}: sent in batches,
 * each retried with backoff on a rate limit, a server error or a broken connection, up to the
 * provider's {@code max_attempts}. Embedding is read-only at the provider, so retrying is safe.
 */
public final class Embeddings {
  static final int BATCH = 64;
  private static final MediaType JSON = MediaType.get("application/json");
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(250);

  private final OkHttpClient http;
  private final ObjectMapper mapper;

  Embeddings(OkHttpClient http, ObjectMapper mapper) {
    this.http = http;
    this.mapper = mapper;
  }

  /** Vectors from the embedding model of a knowledge base, through the workspace's provider. */
  @FunctionalInterface
  public interface Embedder {
    List<float[]> embed(String workspaceId, KnowledgeService.EmbeddingModel model, List<String> texts)
        throws Failed, InterruptedException;
  }

  /** The embedder that calls the provider named by the model. */
  public static Embedder through(ProviderService providers, OkHttpClient http, ObjectMapper mapper) {
    Embeddings embeddings = new Embeddings(http, mapper);
    return (workspaceId, model, texts) -> {
      ModelEndpoint endpoint;
      try {
        endpoint = providers.endpoint(workspaceId, model.provider());
      } catch (DomainException e) {
        throw new Failed(e.getMessage());
      }
      return embeddings.embed(endpoint, model.model(), texts);
    };
  }

  /** Why there are no vectors, in words for the person; never holds the provider's key. */
  public static final class Failed extends Exception {
    Failed(String message) {
      super(message);
    }
  }

  List<float[]> embed(ModelEndpoint endpoint, String model, List<String> texts) throws Failed, InterruptedException {
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (int from = 0; from < texts.size(); from += BATCH) {
      vectors.addAll(batch(endpoint, model, texts.subList(from, Math.min(texts.size(), from + BATCH))));
    }
    return vectors;
  }

  private List<float[]> batch(ModelEndpoint endpoint, String model, List<String> texts)
      throws Failed, InterruptedException {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", model);
    ArrayNode input = body.putArray("input");
    texts.forEach(input::add);
    Request.Builder request = new Request.Builder().url(endpoint.baseUrl() + "/embeddings")
        .post(RequestBody.create(Json.write(mapper, body), JSON));
    endpoint.defaultHeaders().forEach(request::header);
    if (endpoint.apiKey() != null) {
      request.header("Authorization", "Bearer " + endpoint.apiKey());
    }
    OkHttpClient client = http.newBuilder().connectTimeout(endpoint.connectTimeout())
        .readTimeout(endpoint.readTimeout()).build();
    String lastProblem = null;
    Duration backoff = FIRST_BACKOFF;
    for (int attempt = 1; attempt <= Math.max(1, endpoint.maxAttempts()); attempt++) {
      if (attempt > 1) {
        Thread.sleep(backoff.toMillis());
        backoff = backoff.multipliedBy(2);
      }
      try (Response response = client.newCall(request.build()).execute()) {
        String text = response.body().string();
        if (response.code() == 429 || response.code() >= 500) {
          lastProblem = endpoint.provider() + " answered " + response.code();
          continue;
        }
        if (!response.isSuccessful()) {
          throw new Failed(endpoint.provider() + " refused the embeddings request with " + response.code());
        }
        return vectors(Json.treeOrNull(mapper, text), texts.size(), endpoint.provider());
      } catch (IOException e) {
        lastProblem = endpoint.provider() + " could not be reached (" + e.getClass().getSimpleName() + ")";
      }
    }
    throw new Failed(lastProblem + " after " + endpoint.maxAttempts() + " attempts");
  }

  private static List<float[]> vectors(JsonNode answer, int expected, String provider) throws Failed {
    JsonNode data = answer == null ? null : answer.get("data");
    if (data == null || !data.isArray() || data.size() != expected) {
      throw new Failed(provider + " answered the embeddings request with something else than " + expected
          + " embeddings");
    }
    float[][] ordered = new float[expected][];
    for (int i = 0; i < data.size(); i++) {
      JsonNode item = data.get(i);
      int index = item.path("index").asInt(i);
      JsonNode values = item.get("embedding");
      if (index < 0 || index >= expected || values == null || !values.isArray() || values.isEmpty()) {
        throw new Failed(provider + " answered an embedding without numbers");
      }
      float[] vector = new float[values.size()];
      for (int j = 0; j < vector.length; j++) {
        vector[j] = (float) values.get(j).asDouble();
      }
      ordered[index] = vector;
    }
    for (float[] vector : ordered) {
      if (vector == null) {
        throw new Failed(provider + " answered the embeddings request with an index missing");
      }
    }
    return List.of(ordered);
  }
}
