package io.aryabhatta.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StorableTextTest {
  private final ObjectMapper mapper = new ObjectMapper();

  @Test
  void a_nul_character_in_text_becomes_the_replacement_character() {
    assertThat(StorableText.text("before\u0000after\u0000")).isEqualTo("before\uFFFDafter\uFFFD");
    assertThat(StorableText.text("plain")).isSameAs("plain");
  }

  @Test
  void a_nul_escape_in_json_becomes_an_escaped_replacement_character_and_reads_back_as_one() throws Exception {
    String json = mapper.writeValueAsString(Map.of("text", "a\u0000b"));
    assertThat(json).contains("\\u0000");

    String storable = StorableText.json(json);

    assertThat(storable).doesNotContain("\\u0000");
    assertThat(mapper.readTree(storable).get("text").asText()).isEqualTo("a\uFFFDb");
  }

  @Test
  void the_six_characters_of_an_escape_written_as_text_are_kept() throws Exception {
    String json = mapper.writeValueAsString(Map.of("code", "char c = '\\u0000';", "both", "\\\u0000"));

    String storable = StorableText.json(json);

    assertThat(mapper.readTree(storable).get("code").asText()).isEqualTo("char c = '\\u0000';");
    assertThat(mapper.readTree(storable).get("both").asText()).isEqualTo("\\\uFFFD");
  }
}
