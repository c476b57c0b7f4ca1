package io.aryabhatta.model;

import static io.aryabhatta.model.ModelTesting.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.aryabhatta.testing.FakeModelServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Providers' recorded error responses become typed failures with the provider's own words. */
class ModelClientErrorsTest {
  private FakeModelServer fake;
  private final ModelClient client = ModelTesting.client();
  private final ModelTesting.Deltas deltas = new ModelTesting.Deltas();

  @BeforeEach
  void start() {
    fake = FakeModelServer.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private ModelCallException fail(ModelEndpoint endpoint, boolean stream) {
    return catchThrowableOfType(ModelCallException.class,
        () -> client.complete(endpoint, ask("question", stream), deltas));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', textBlock = """
      e01_hf_400_model_not_supported.http            | model_not_found      | 400 | is not supported by any provider you have enabled
      e02_hf_400_legacy_string_error.http            | model_not_found      | 400 | Model not supported by provider hf-inference
      e03_hf_401_invalid_token.http                  | unauthorized         | 401 | Invalid credentials in Authorization header
      e04_hf_402_credits_exceeded.http               | payment_required     | 402 | exceeded your monthly included credits
      e05_hf_403_token_lacks_permission.http         | unauthorized         | 403 | does not have sufficient permissions
      e06_hf_503_model_loading_legacy.http           | provider_unavailable | 503 | is currently loading
      e07_openai_401.http                            | unauthorized         | 401 | Incorrect API key provided
      e08_openai_429_rate_limit.http                 | rate_limited         | 429 | Rate limit reached for gpt-4o
      e09_openai_429_insufficient_quota_do_not_retry.http | payment_required | 429 | You exceeded your current quota
      e10_openai_400_orphan_tool_message.http        | rejected             | 400 | must be a response to a preceeding message
      e11_vllm_404_flat_legacy.http                  | model_not_found      | 404 | does not exist
      e12_vllm_400_tool_choice_not_enabled.http      | rejected             | 400 | requires --enable-auto-tool-choice
      e13_tgi_422_validation.http                    | rejected             | 422 | `temperature` must be strictly positive
      e14_llamacpp_503_loading.http                  | provider_unavailable | 503 | Loading model
      e15_groq_400_tool_use_failed.http              | rejected             | 400 | Failed to call a function
      e16_ollama_404.http                            | model_not_found      | 404 | not found, try pulling it first
      """)
  void recorded_error_maps_to_a_typed_failure(String fixture, String kind, int status, String providerWords) {
    fake.enqueue(Fixtures.httpResponse(fixture));

    ModelCallException error = fail(fake.endpoint(1), false);

    assertThat(error.kind()).isEqualTo(kind);
    assertThat(error.statusCode()).isEqualTo(status);
    assertThat(error.providerMessage()).contains(providerWords);
    assertThat(error.getMessage()).contains("'fake'").contains("HTTP " + status).contains(providerWords);
    assertThat(error.attempts()).singleElement().satisfies(a -> {
      assertThat(a.statusCode()).isEqualTo(status);
      assertThat(a.error()).contains(providerWords);
    });
  }

  @Test
  void each_kind_has_its_own_exception_type() {
    fake.enqueue(Fixtures.httpResponse("e03_hf_401_invalid_token.http"),
        Fixtures.httpResponse("e04_hf_402_credits_exceeded.http"),
        Fixtures.httpResponse("e16_ollama_404.http"),
        Fixtures.httpResponse("e13_tgi_422_validation.http"));

    assertThat(fail(fake.endpoint(1), false)).isInstanceOf(ModelCallException.Unauthorized.class);
    assertThat(fail(fake.endpoint(1), false)).isInstanceOf(ModelCallException.PaymentRequired.class);
    assertThat(fail(fake.endpoint(1), false)).isInstanceOf(ModelCallException.ModelNotFound.class)
        .hasMessageContaining("does not serve model 'fake-model'");
    assertThat(fail(fake.endpoint(1), false)).isInstanceOf(ModelCallException.Rejected.class);
  }

  @Test
  void errors_are_mapped_the_same_for_streaming_requests() {
    fake.enqueue(Fixtures.httpResponse("e07_openai_401.http"));

    assertThat(fail(fake.endpoint(1), true)).isInstanceOf(ModelCallException.Unauthorized.class);
  }

  @Test
  void the_api_key_never_appears_in_the_error_even_when_the_provider_echoes_it() {
    fake.enqueue(FakeModelServer.error(401, "{\"error\":\"Invalid key hf_TopSecret123 for this route\"}"));
    ModelEndpoint endpoint = new ModelEndpoint("hf", fake.baseUrl(), "hf_TopSecret123", Map.of(), 1,
        Duration.ofSeconds(2), Duration.ofSeconds(5));

    ModelCallException error = fail(endpoint, false);

    assertThat(error.getMessage()).doesNotContain("hf_TopSecret123").contains("Invalid key *** for this route");
    assertThat(error.providerMessage()).doesNotContain("hf_TopSecret123");
    assertThat(error.attempts().getFirst().error()).doesNotContain("hf_TopSecret123");
  }

  @Test
  void a_body_that_is_not_json_is_an_invalid_response_and_not_retried() {
    fake.enqueue(FakeModelServer.raw(200, "application/json", "<html>Gateway says hi</html>"));

    ModelCallException error = fail(fake.endpoint(3), false);

    assertThat(error).isInstanceOf(ModelCallException.InvalidResponse.class);
    assertThat(error.getMessage()).contains("<html>Gateway says hi</html>");
    assertThat(error.attempts()).hasSize(1);
  }

  @Test
  void a_json_body_without_choices_is_an_invalid_response() {
    fake.enqueue(FakeModelServer.raw(200, "application/json", "{\"object\":\"chat.completion\"}"));

    assertThat(fail(fake.endpoint(1), false).kind()).isEqualTo("invalid_response");
  }

  @Test
  void a_stream_chunk_that_is_not_json_is_an_invalid_response() {
    fake.enqueue(FakeModelServer.raw(200, "text/event-stream", "data: {\"choices\":[\n\n"));

    assertThat(fail(fake.endpoint(1), true).kind()).isEqualTo("invalid_response");
  }

  @Test
  void an_html_error_page_keeps_its_status_and_text() {
    fake.enqueue(FakeModelServer.raw(502, "text/html", "<html><body>502 Bad Gateway</body></html>"));

    ModelCallException error = fail(fake.endpoint(1), false);

    assertThat(error.kind()).isEqualTo("provider_unavailable");
    assertThat(error.getMessage()).contains("HTTP 502").contains("502 Bad Gateway");
  }

  @Test
  void tgi_error_frame_mid_stream_interrupts_the_stream_after_the_text_already_delivered() {
    fake.enqueue(Fixtures.stream("q09_midstream_error_events.sse"));

    ModelCallException error = fail(fake.endpoint(3), true);

    assertThat(error).isInstanceOf(ModelCallException.StreamInterrupted.class);
    assertThat(error.providerMessage()).contains("CUDA out of memory");
    assertThat(deltas.received).containsExactly("Partial");
    assertThat(error.attempts()).as("text was delivered: not retried").hasSize(1);
    assertThat(error.attempts().getFirst().statusCode()).isEqualTo(200);
  }

  @Test
  void groq_error_event_maps_to_the_status_it_carries() {
    fake.enqueue(Fixtures.stream("q10_groq_event_error.sse"));

    ModelCallException error = fail(fake.endpoint(3), true);

    assertThat(error).isInstanceOf(ModelCallException.Rejected.class);
    assertThat(error.statusCode()).isEqualTo(400);
    assertThat(error.providerMessage()).contains("Failed to call a function");
    assertThat(error.attempts()).hasSize(1);
  }

  @Test
  void a_stream_cut_after_text_was_delivered_is_interrupted_and_not_retried() {
    fake.enqueue(FakeModelServer.text("A long answer that will be cut").cutAfterChunks(3),
        FakeModelServer.text("never asked for"));

    ModelCallException error = fail(fake.endpoint(3), true);

    assertThat(error).isInstanceOf(ModelCallException.StreamInterrupted.class);
    assertThat(deltas.joined()).isEqualTo("A long a");
    assertThat(error.attempts()).singleElement().satisfies(a -> {
      assertThat(a.statusCode()).isEqualTo(200);
      assertThat(a.error()).contains("connection was lost");
    });
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void a_stream_that_ends_cleanly_before_the_model_finished_is_interrupted() {
    fake.enqueue(FakeModelServer.raw(200, "text/event-stream",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half\"}}]}\n\n"));

    ModelCallException error = fail(fake.endpoint(3), true);

    assertThat(error.kind()).isEqualTo("stream_interrupted");
    assertThat(error.getMessage()).contains("before the model finished");
  }

  @Test
  void unscripted_fake_server_answers_a_clear_500() {
    ModelCallException error = fail(fake.endpoint(1), false);

    assertThat(error.getMessage()).contains("FakeModelServer: no reply queued");
  }
}
