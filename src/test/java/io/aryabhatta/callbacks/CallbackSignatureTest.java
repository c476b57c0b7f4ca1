package io.aryabhatta.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CallbackSignatureTest {
  /** The value docs/callbacks.md's shell and Python snippets compute for the same input (openssl dgst -hmac). */
  @Test
  void signs_the_timestamp_a_dot_and_the_body_as_utf8_with_the_secret_text() {
    assertThat(CallbackSignature.sign("whsec_abc", 1764763200L, "{\"id\":\"x\",\"output\":\"é\"}"))
        .isEqualTo("sha256=dc36b192d5db998f9ca7b562d626383cc255bc9579651e8985d11fa3de08dc8d");
  }

  @Test
  void another_timestamp_or_secret_is_another_signature() {
    String body = "{\"id\":\"x\"}";
    String signed = CallbackSignature.sign("whsec_abc", 1L, body);

    assertThat(CallbackSignature.sign("whsec_abc", 2L, body)).isNotEqualTo(signed);
    assertThat(CallbackSignature.sign("whsec_abd", 1L, body)).isNotEqualTo(signed);
  }
}
