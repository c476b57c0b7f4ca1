package io.aryabhatta.triggers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The signature as docs/triggers.md computes it with openssl, and the payload templates. */
class WebhookSignatureTest {
  static final String SECRET = "abc_DEF-123";
  static final byte[] BODY = "{\"order\": {\"id\": \"A-17\"}}".getBytes(StandardCharsets.UTF_8);
  static final long TIMESTAMP = 1764700000L;

  @Test
  void the_signature_is_what_openssl_computes_for_timestamp_dot_body() {
    // printf '%s.%s' 1764700000 '{"order": {"id": "A-17"}}' | openssl dgst -sha256 -hmac abc_DEF-123
    assertThat(WebhookSignature.sign(SECRET, TIMESTAMP, BODY))
        .isEqualTo("sha256=b6f85980fa0263b0ab3b98b2d77c351aeb5d114add0cacb9b203fe6eb4ad0a75");
  }

  @Test
  void a_delivery_is_valid_within_five_minutes_of_its_timestamp_only() {
    String signature = WebhookSignature.sign(SECRET, TIMESTAMP, BODY);
    Instant signedAt = Instant.ofEpochSecond(TIMESTAMP);

    assertThat(WebhookSignature.verify(SECRET, "1764700000", signature, BODY, signedAt.plusSeconds(300)))
        .isEqualTo(WebhookSignature.Verdict.VALID);
    assertThat(WebhookSignature.verify(SECRET, "1764700000", signature.toUpperCase().replace("SHA256=", "sha256="),
        BODY, signedAt)).isEqualTo(WebhookSignature.Verdict.VALID);
    assertThat(WebhookSignature.verify(SECRET, "1764700000", signature, BODY, signedAt.plusSeconds(301)))
        .isEqualTo(WebhookSignature.Verdict.STALE_TIMESTAMP);
    assertThat(WebhookSignature.verify(SECRET, "1764700000", signature, BODY, signedAt.minusSeconds(301)))
        .isEqualTo(WebhookSignature.Verdict.STALE_TIMESTAMP);
    assertThat(WebhookSignature.verify(SECRET, "1764700001", signature, BODY, signedAt))
        .isEqualTo(WebhookSignature.Verdict.MISMATCH);
    assertThat(WebhookSignature.verify("other", "1764700000", signature, BODY, signedAt))
        .isEqualTo(WebhookSignature.Verdict.MISMATCH);
    assertThat(WebhookSignature.verify(SECRET, "soon", signature, BODY, signedAt))
        .isEqualTo(WebhookSignature.Verdict.MISSING_TIMESTAMP);
    assertThat(WebhookSignature.verify(SECRET, "1764700000", "md5=00", BODY, signedAt))
        .isEqualTo(WebhookSignature.Verdict.MISSING_SIGNATURE);
  }

  @Test
  void templates_take_fields_array_elements_and_the_whole_payload_and_list_what_is_missing() throws Exception {
    var payload = new ObjectMapper().readTree("""
        {"order": {"id": 17, "items": [{"name": "tea"}], "note": "{{payload.order.id}}"}}""");

    PayloadTemplate.Run run = PayloadTemplate.fillRun(
        "#{{ payload.order.id }} {{payload.order.items.0.name}} {{payload.order.note}}",
        Map.of("items", "{{payload.order.items}}", "who", "{{payload.customer.name}}"), payload);

    assertThat(run.input()).isEqualTo("#17 tea {{payload.order.id}}");
    assertThat(run.variables()).containsEntry("items", "[{\"name\":\"tea\"}]");
    assertThat(run.missing()).extracting(e -> e.field()).containsExactly("payload.customer.name");
    assertThat(PayloadTemplate.invalidReferences("{{secret.KEY}} {{payload}} {{ payload.a.b }}"))
        .containsExactly("secret.KEY");
  }
}
