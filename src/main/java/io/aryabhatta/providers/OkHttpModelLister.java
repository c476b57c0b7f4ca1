package io.aryabhatta.providers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.http.ApiException;
import io.aryabhatta.model.ModelEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** {@link ModelLister} over plain OkHttp: one GET of {@code <base_url>/models}, no retries. */
public final class OkHttpModelLister implements ModelLister {
  private static final int MAX_BYTES = 8 * 1024 * 1024;
  private static final Duration MAX_READ_TIMEOUT = Duration.ofSeconds(30);

  private final OkHttpClient client;
  private final ObjectMapper mapper;

  public OkHttpModelLister(OkHttpClient client, ObjectMapper mapper) {
    this.client = client;
    this.mapper = mapper;
  }

  @Override
  public JsonNode list(ModelEndpoint endpoint) {
    Request.Builder request = new Request.Builder().url(endpoint.modelsUrl()).get();
    endpoint.defaultHeaders().forEach(request::header);
    if (endpoint.apiKey() != null) {
      request.header("Authorization", "Bearer " + endpoint.apiKey());
    }
    OkHttpClient timed = client.newBuilder()
        .connectTimeout(endpoint.connectTimeout())
        .readTimeout(endpoint.readTimeout().compareTo(MAX_READ_TIMEOUT) < 0 ? endpoint.readTimeout() : MAX_READ_TIMEOUT)
        .build();
    String provider = "provider '" + endpoint.provider() + "'";
    try (Response response = timed.newCall(request.build()).execute()) {
      if (response.code() == 401 || response.code() == 403) {
        throw new ApiException.BadGateway(provider + " rejected the API key (HTTP " + response.code() + ")");
      }
      if (!response.isSuccessful()) {
        throw new ApiException.BadGateway(provider + " answered HTTP " + response.code() + " to GET /models");
      }
      byte[] bytes;
      try (InputStream in = response.body().byteStream()) {
        bytes = in.readNBytes(MAX_BYTES + 1);
      }
      if (bytes.length > MAX_BYTES) {
        throw new ApiException.BadGateway(provider + " answered a model list larger than " + MAX_BYTES + " bytes");
      }
      try {
        return mapper.readTree(bytes);
      } catch (IOException e) {
        throw new ApiException.BadGateway(provider + " did not answer GET /models with JSON");
      }
    } catch (IOException e) {
      throw new ApiException.BadGateway(provider + " is unreachable at " + endpoint.baseUrl() + " ("
          + e.getClass().getSimpleName() + ")");
    }
  }
}
