package io.aryabhatta.model;

import static io.aryabhatta.model.ModelTesting.ask;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.testing.FakeModelServer;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ModelClientRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private FakeModelServer fake;
  private final ModelClient client = ModelTesting.client();

  @BeforeEach
  void start() {
    fake = FakeModelServer.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void request_with_tools_and_tool_results_is_sent_as_the_recorded_router_request() throws Exception {
    JsonNode recorded = Fixtures.json("01_request_tools_roundtrip.json");
    JsonNode weatherSchema = recorded.at("/tools/0/function/parameters");
    JsonNode timeSchema = recorded.at("/tools/1/function/parameters");
    ChatRequest request = new ChatRequest("Qwen/Qwen3-32B:cerebras", List.of(
        ChatMessage.system("You are an agent. Use tools when needed."),
        ChatMessage.user("Weather in Paris and the local time there?"),
        ChatMessage.assistant(null, List.of(
            new ToolCall("call_7kQm2xYp4RZs9TnV", "get_weather", "{\"city\":\"Paris\"}"),
            new ToolCall("call_Lw3Hc8Jd1NqE5uXo", "get_time", "{\"tz\":\"Europe/Paris\"}"))),
        ChatMessage.tool("call_7kQm2xYp4RZs9TnV", "get_weather", "{\"temp_c\":18,\"sky\":\"cloudy\"}"),
        ChatMessage.tool("call_Lw3Hc8Jd1NqE5uXo", "get_time", "{\"time\":\"14:05\"}")),
        List.of(new ToolSpec("get_weather", "Current weather for a city", weatherSchema),
            new ToolSpec("get_time", "Local time for an IANA timezone", timeSchema)),
        "auto", 0.0, null, 512, 42L, true);
    fake.enqueue(FakeModelServer.text("It is 18°C and 14:05."));

    ChatResult result = client.complete(fake.endpoint(), request, null);

    JsonNode sent = fake.lastRequest().body();
    assertThat(sent.equals(NUMBERS_BY_VALUE, recorded)).as("sent %s", sent).isTrue();
    assertThat(sent.fieldNames().next()).as("model goes first, for the HF router").isEqualTo("model");
    assertThat(result.request().equals(NUMBERS_BY_VALUE, recorded)).isTrue();
  }

  @Test
  void unset_parameters_and_empty_tools_are_not_sent() {
    fake.enqueue(FakeModelServer.text("hi"));

    client.complete(fake.endpoint(), ask("hello", false), null);

    JsonNode sent = fake.lastRequest().body();
    assertThat(sent.properties()).extracting(Map.Entry::getKey).containsExactly("model", "messages", "stream");
    assertThat(sent.path("stream").asBoolean(true)).isFalse();
    assertThat(sent.path("messages").get(0).toString()).isEqualTo("{\"role\":\"user\",\"content\":\"hello\"}");
  }

  @Test
  void streaming_request_asks_for_usage() {
    fake.enqueue(FakeModelServer.text("hi"));

    client.complete(fake.endpoint(), ask("hello", true), null);

    assertThat(fake.lastRequest().body().path("stream").asBoolean()).isTrue();
    assertThat(fake.lastRequest().body().at("/stream_options/include_usage").asBoolean()).isTrue();
    assertThat(fake.lastRequest().header("Accept")).isEqualTo("text/event-stream");
  }

  @Test
  void a_named_tool_choice_forces_that_function() {
    fake.enqueue(FakeModelServer.toolCall("calculator", "{}"));
    ChatRequest request = new ChatRequest("m", List.of(ChatMessage.user("2+2")),
        List.of(new ToolSpec("calculator", null, null)), "calculator", null, 0.5, null, null, false);

    client.complete(fake.endpoint(), request, null);

    JsonNode sent = fake.lastRequest().body();
    assertThat(sent.path("tool_choice").toString())
        .isEqualTo("{\"type\":\"function\",\"function\":{\"name\":\"calculator\"}}");
    assertThat(sent.path("top_p").asDouble()).isEqualTo(0.5);
    assertThat(sent.at("/tools/0/function/parameters/type").asText()).isEqualTo("object");
  }

  @Test
  void key_default_headers_and_content_type_are_sent() {
    fake.enqueue(FakeModelServer.text("hi"));
    ModelEndpoint endpoint = new ModelEndpoint("hf", fake.baseUrl(), "hf_secret", Map.of("X-HF-Bill-To", "acme"), 1,
        Duration.ofSeconds(2), Duration.ofSeconds(5));

    client.complete(endpoint, ask("hello", false), null);

    FakeModelServer.ReceivedRequest received = fake.lastRequest();
    assertThat(received.header("Authorization")).isEqualTo("Bearer hf_secret");
    assertThat(received.header("X-HF-Bill-To")).isEqualTo("acme");
    assertThat(received.header("Content-Type")).startsWith("application/json");
    assertThat(received.header("Accept")).isEqualTo("application/json");
  }

  @Test
  void no_authorization_header_without_a_key() {
    fake.enqueue(FakeModelServer.text("hi"));
    ModelEndpoint endpoint = new ModelEndpoint("ollama", fake.baseUrl(), null, Map.of(), 1, null, null);

    client.complete(endpoint, ask("hello", false), null);

    assertThat(fake.lastRequest().header("Authorization")).isNull();
  }

  @Test
  void list_models_returns_the_providers_catalog() {
    fake.models(Fixtures.text("05_hf_v1_models.json"));

    JsonNode models = client.listModels(fake.endpoint());

    assertThat(models.at("/data/0/id").asText()).isEqualTo("openai/gpt-oss-120b");
    assertThat(models.at("/data/0/providers")).hasSize(4);
  }

  @Test
  void list_models_at_a_wrong_base_url_is_a_typed_not_found() {
    ModelEndpoint wrong = new ModelEndpoint("fake", fake.baseUrl() + "/nope", "k", Map.of(), 1, null, null);

    ModelCallException error = org.assertj.core.api.Assertions.catchThrowableOfType(ModelCallException.class,
        () -> client.listModels(wrong));

    assertThat(error.kind()).isEqualTo("model_not_found");
    assertThat(error.getMessage()).contains("HTTP 404").contains("no route GET /v1/nope/models");
  }

  /** 0 and 0.0, 42 and 42L are the same JSON value. */
  private static final Comparator<JsonNode> NUMBERS_BY_VALUE = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue());
    }
    return a.equals(b) ? 0 : 1;
  };
}
