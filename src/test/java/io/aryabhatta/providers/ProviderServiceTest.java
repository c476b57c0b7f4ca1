package io.aryabhatta.providers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProviderServiceTest {
  @Test
  void hf_base_url_is_the_chat_completions_url_without_its_path() {
    assertThat(ProviderService.baseUrlOf("https://router.huggingface.co/v1/chat/completions"))
        .isEqualTo("https://router.huggingface.co/v1");
    assertThat(ProviderService.baseUrlOf("https://router.huggingface.co/v1/chat/completions/"))
        .isEqualTo("https://router.huggingface.co/v1");
    assertThat(ProviderService.baseUrlOf("http://localhost:8080/v1/")).isEqualTo("http://localhost:8080/v1");
  }
}
