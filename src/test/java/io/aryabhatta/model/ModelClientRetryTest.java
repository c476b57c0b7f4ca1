package io.aryabhatta.model;

import static io.aryabhatta.model.ModelTesting.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.aryabhatta.json.Json;
import io.aryabhatta.testing.FakeModelServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Retries are bounded, honor Retry-After, and are recorded attempt by attempt. */
class ModelClientRetryTest {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private FakeModelServer fake;
  private final ModelTesting.RecordingSleeper sleeper = new ModelTesting.RecordingSleeper();
  private final ModelClient client =
      new ModelClient(ModelTesting.HTTP, Json.mapper(), ModelTesting.noWaitRetries(sleeper, Clock.fixed(NOW, ZoneOffset.UTC)));
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

  @Test
  void server_errors_are_retried_until_an_attempt_succeeds_and_every_attempt_is_reported() {
    fake.failTimes(2, 503).enqueue(FakeModelServer.text("finally"));

    ChatResult result = client.complete(fake.endpoint(3), ask("question", true), deltas);

    assertThat(result.content()).isEqualTo("finally");
    assertThat(result.attempts()).extracting(Attempt::statusCode).containsExactly(503, 503, 200);
    assertThat(result.attempts()).extracting(Attempt::error)
        .containsExactly("HTTP 503: fake error 503", "HTTP 503: fake error 503", null);
    assertThat(fake.requests()).hasSize(3);
    assertThat(sleeper.waits).hasSize(2);
  }

  @Test
  void server_errors_on_every_attempt_stop_at_max_attempts() {
    fake.failTimes(5, 500);

    ModelCallException error = fail(fake.endpoint(3), false);

    assertThat(error).isInstanceOf(ModelCallException.ProviderUnavailable.class);
    assertThat(error.getMessage()).contains("after 3 attempts");
    assertThat(error.attempts()).hasSize(3);
    assertThat(fake.requests()).hasSize(3);
    assertThat(fake.pendingReplies()).isEqualTo(2);
  }

  @Test
  void backoff_grows_exponentially_with_jitter() {
    fake.failTimes(4, 502);

    fail(fake.endpoint(5), false);

    // first backoff 100 ms, doubled each time, capped at 1 s; equal jitter keeps at least half
    assertThat(sleeper.waits).hasSize(4);
    assertThat(sleeper.waits.get(0)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    assertThat(sleeper.waits.get(1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
    assertThat(sleeper.waits.get(2)).isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
    assertThat(sleeper.waits.get(3)).isBetween(Duration.ofMillis(400), Duration.ofMillis(800));
  }

  @Test
  void rate_limit_is_retried_after_the_seconds_in_retry_after() {
    FakeModelServer.Reply limited = Fixtures.httpResponse("e08_openai_429_rate_limit.http");
    fake.enqueue(limited, limited, limited);

    ModelCallException error = fail(fake.endpoint(3), true);

    assertThat(error).isInstanceOf(ModelCallException.RateLimited.class);
    assertThat(error.statusCode()).isEqualTo(429);
    assertThat(error.attempts()).extracting(Attempt::statusCode).containsExactly(429, 429, 429);
    assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(2));
  }

  @Test
  void retry_after_as_an_http_date_is_honored() {
    String inFiveSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.plusSeconds(5).atZone(ZoneOffset.UTC));
    fake.enqueue(FakeModelServer.error(503).withHeader("Retry-After", inFiveSeconds), FakeModelServer.text("ok"));

    client.complete(fake.endpoint(2), ask("question", false), deltas);

    assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(5));
  }

  @Test
  void an_unreasonable_retry_after_is_capped() {
    fake.enqueue(FakeModelServer.error(429).withHeader("Retry-After", "86400"), FakeModelServer.text("ok"));

    client.complete(fake.endpoint(2), ask("question", false), deltas);

    assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(60));
  }

  @Test
  void insufficient_quota_is_not_retried() {
    fake.enqueue(Fixtures.httpResponse("e09_openai_429_insufficient_quota_do_not_retry.http"),
        FakeModelServer.text("never asked for"));

    ModelCallException error = fail(fake.endpoint(3), false);

    assertThat(error.kind()).isEqualTo("payment_required");
    assertThat(error.attempts()).hasSize(1);
    assertThat(fake.requests()).hasSize(1);
    assertThat(sleeper.waits).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 402, 403, 404, 422})
  void client_errors_are_not_retried(int status) {
    fake.enqueue(FakeModelServer.error(status), FakeModelServer.text("never asked for"));

    ModelCallException error = fail(fake.endpoint(3), false);

    assertThat(error.statusCode()).isEqualTo(status);
    assertThat(error.attempts()).hasSize(1);
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void connection_refused_is_retried_then_reported_as_provider_unavailable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    ModelEndpoint nowhere = new ModelEndpoint("down", "http://127.0.0.1:" + closedPort + "/v1", "k", Map.of(), 3,
        Duration.ofSeconds(1), Duration.ofSeconds(1));

    ModelCallException error = fail(nowhere, false);

    assertThat(error).isInstanceOf(ModelCallException.ProviderUnavailable.class);
    assertThat(error.statusCode()).isNull();
    assertThat(error.attempts()).hasSize(3).allSatisfy(a -> {
      assertThat(a.statusCode()).isNull();
      assertThat(a.error()).startsWith("connection failed");
    });
  }

  @Test
  void a_read_timeout_is_retried_then_reported_as_timeout() {
    fake.enqueue(FakeModelServer.text("late").withDelay(Duration.ofSeconds(2)),
        FakeModelServer.text("late").withDelay(Duration.ofSeconds(2)));
    ModelEndpoint impatient = new ModelEndpoint("fake", fake.baseUrl(), "k", Map.of(), 2, Duration.ofSeconds(1),
        Duration.ofMillis(200));

    ModelCallException error = fail(impatient, false);

    assertThat(error).isInstanceOf(ModelCallException.Timeout.class);
    assertThat(error.attempts()).hasSize(2).allSatisfy(a -> assertThat(a.error()).startsWith("timed out"));
  }

  @Test
  void a_read_timeout_then_a_timely_answer_succeeds() {
    fake.enqueue(FakeModelServer.text("late").withDelay(Duration.ofSeconds(2)), FakeModelServer.text("on time"));
    ModelEndpoint impatient = new ModelEndpoint("fake", fake.baseUrl(), "k", Map.of(), 2, Duration.ofSeconds(1),
        Duration.ofMillis(200));

    ChatResult result = client.complete(impatient, ask("question", true), deltas);

    assertThat(result.content()).isEqualTo("on time");
    assertThat(result.attempts()).extracting(Attempt::statusCode).containsExactly(null, 200);
  }

  @Test
  void a_stream_cut_before_any_text_is_retried_without_duplicating_text() {
    fake.enqueue(FakeModelServer.text("Hello there").cutAfterChunks(1), FakeModelServer.text("Hello there"));

    ChatResult result = client.complete(fake.endpoint(3), ask("question", true), deltas);

    assertThat(result.content()).isEqualTo("Hello there");
    assertThat(deltas.joined()).isEqualTo("Hello there");
    assertThat(result.attempts()).hasSize(2);
    assertThat(result.attempts().getFirst().error()).contains("connection was lost");
  }

  @Test
  void one_attempt_means_no_retry() {
    fake.failTimes(2, 503);

    assertThat(fail(fake.endpoint(1), false).attempts()).hasSize(1);
    assertThat(sleeper.waits).isEmpty();
  }
}
