package io.aryabhatta.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Checks an error response against the problem JSON contract. */
public final class ProblemAssert {
  private ProblemAssert() {}

  /** Asserts the status and the problem shape, and returns the body. */
  public static JsonNode assertProblem(Http.Response r, int status) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    JsonNode body = r.json();
    assertThat(body.get("type").asText()).isNotBlank();
    assertThat(body.get("title").asText()).isNotBlank();
    assertThat(body.get("status").asInt()).isEqualTo(status);
    assertThat(body.get("detail").asText()).isNotBlank();
    assertThat(r.header("X-Request-Id")).isNotBlank();
    assertThat(body.get("request_id").asText()).isEqualTo(r.header("X-Request-Id"));
    return body;
  }

  /** The {@code field} of every entry of a 422's {@code errors}, each of which has a message. */
  public static List<String> fields(JsonNode problem) {
    List<String> fields = new ArrayList<>();
    problem.get("errors").forEach(e -> {
      assertThat(e.get("message").asText()).isNotBlank();
      fields.add(e.get("field").asText());
    });
    return fields;
  }
}
