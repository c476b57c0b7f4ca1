package io.aryabhatta.embed;

import static io.aryabhatta.testing.FakeModelServer.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aryabhatta.agents.AgentInput;
import io.aryabhatta.agents.ModelSettings;
import io.aryabhatta.callbacks.CallbackDelivery;
import io.aryabhatta.callbacks.CallbackSecrets;
import io.aryabhatta.callbacks.DeliveryStatus;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.runs.Run;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.ToolTarget;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** An embedding application gives a run a callback URL and verifies the signed delivery with its secret. */
class EmbeddedCallbacksTest {
  static FakeModelServer fake;
  static Aryabhatta engine;
  static String agent;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> text("Done."));
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setURL(TestPostgres.freshDatabase());
    dataSource.setUser("postgres");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    engine = Aryabhatta.builder()
        .dataSource(dataSource)
        .secretKey(Base64.getEncoder().encodeToString(key))
        .httpToolAllowlist(List.of("127.0.0.1"))
        .build();
    engine.putSecret("FAKE_KEY", FakeModelServer.API_KEY);
    engine.createProvider("fake", fake.baseUrl(), "FAKE_KEY");
    agent = engine.createAgent(new AgentInput("notifier", null, "You are terse.",
        new ModelSettings("fake", FakeModelServer.MODEL, null, null, null, null), List.of(), null, null, null)).id();
  }

  @AfterAll
  static void stop() {
    engine.close();
    fake.close();
  }

  @Test
  void a_run_started_with_a_callback_url_is_posted_there_signed_with_the_rotated_secret() throws Exception {
    CallbackSecrets.Rotated secret = engine.rotateCallbackSecret();
    assertThat(secret.toString()).doesNotContain(secret.secret());
    try (ToolTarget target = ToolTarget.start()) {
      RunHandle run = engine.run(agent, "Hi", Map.of(), target.url("/embedded"));
      Run ended = run.await(Duration.ofSeconds(30));
      assertThat(ended.callbackUrl()).isEqualTo(target.url("/embedded"));

      CallbackDelivery delivery = awaitDelivered(ended.id());
      assertThat(delivery.url()).isEqualTo(target.url("/embedded"));
      ToolTarget.Call call = target.calls().getFirst();
      assertThat(Http.JSON.readTree(call.body()).get("id").asText()).isEqualTo(ended.id());
      assertThat(call.header("X-Aryabhatta-Delivery")).isEqualTo(delivery.id());
      String timestamp = call.header("X-Aryabhatta-Timestamp");
      assertThat(call.header("X-Aryabhatta-Signature")).isEqualTo(sign(secret.secret(), timestamp, call.body()));

      RunHandle next = engine.continueConversation(ended.conversationId(), "Again", target.url("/next"));
      awaitDelivered(next.await(Duration.ofSeconds(30)).id());
      assertThat(target.calls()).extracting(ToolTarget.Call::path).containsExactly("/embedded", "/next");
    }
  }

  @Test
  void a_blocked_callback_url_is_refused_and_no_run_is_started() {
    int requestsBefore = fake.requests().size();

    assertThatThrownBy(() -> engine.run(agent, "Hi", Map.of(), "http://10.0.0.1/hook"))
        .isInstanceOfSatisfying(DomainException.ValidationFailed.class,
            e -> assertThat(e.errors()).extracting(f -> f.field()).containsExactly("callback_url"));
    assertThat(fake.requests()).hasSize(requestsBefore);
  }

  @Test
  void a_run_without_a_callback_has_no_delivery() throws Exception {
    Run ended = engine.run(agent, "Hi").await(Duration.ofSeconds(30));
    assertThat(engine.callback(ended.id())).isEmpty();
  }

  private static CallbackDelivery awaitDelivered(String runId) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Optional<CallbackDelivery> delivery = Optional.empty();
    while (System.nanoTime() < deadline) {
      delivery = engine.callback(runId);
      if (delivery.isPresent() && delivery.get().status() == DeliveryStatus.DELIVERED) {
        return delivery.get();
      }
      AgentSetup.sleep(100);
    }
    throw new AssertionError("the callback of run " + runId + " was not delivered: " + delivery);
  }

  private static String sign(String secret, String timestamp, String body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
  }
}
