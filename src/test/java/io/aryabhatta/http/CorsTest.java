package io.aryabhatta.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Browser pages of the configured origins call the API: preflights answered, answers marked. */
class CorsTest {
  private static final String CHAT_UI = "https://chat.example.com";
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("ARYABHATTA_CORS_ORIGINS", CHAT_UI + ", http://localhost:3000"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Http.Response preflight(TestServer on, String path, String origin) {
    return on.anonymous().send("OPTIONS", path, null, Map.of("Origin", origin,
        "Access-Control-Request-Method", "POST",
        "Access-Control-Request-Headers", "authorization, content-type, idempotency-key, x-stainless-os"));
  }

  private static List<String> listed(Http.Response response, String header) {
    String value = response.header(header);
    return value == null ? List.of() : Arrays.stream(value.split(",")).map(String::strip).toList();
  }

  @Test
  void a_preflight_from_an_allowed_origin_is_answered_without_a_key() {
    for (String path : List.of("/v1/chat/completions", "/api/agents/ag_x/runs")) {
      Http.Response r = preflight(server, path, CHAT_UI);

      assertThat(r.status()).as(path).isEqualTo(204);
      assertThat(r.header("Access-Control-Allow-Origin")).isEqualTo(CHAT_UI);
      assertThat(listed(r, "Access-Control-Allow-Methods")).contains("GET", "POST", "PATCH", "DELETE");
      assertThat(listed(r, "Access-Control-Allow-Headers"))
          .contains("authorization", "content-type", "idempotency-key", "last-event-id")
          // what an SDK adds (the OpenAI SDKs send x-stainless-* headers)
          .contains("x-stainless-os");
      assertThat(r.header("Access-Control-Allow-Credentials")).isNull();
      assertThat(r.header("Vary")).contains("Origin");
    }
  }

  @Test
  void answers_to_an_allowed_origin_say_so_and_others_do_not() {
    Http.Response allowed = server.admin.send("GET", "/api/agents", null, Map.of("Origin", "http://localhost:3000"));
    assertThat(allowed.status()).isEqualTo(200);
    assertThat(allowed.header("Access-Control-Allow-Origin")).isEqualTo("http://localhost:3000");
    assertThat(listed(allowed, "Access-Control-Expose-Headers")).contains("x-request-id");

    Http.Response other = server.admin.send("GET", "/api/agents", null, Map.of("Origin", "https://evil.example"));
    assertThat(other.status()).isEqualTo(200);
    assertThat(other.header("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  void a_preflight_from_another_origin_gets_no_permission() {
    Http.Response r = preflight(server, "/v1/chat/completions", "https://evil.example");

    assertThat(r.header("Access-Control-Allow-Origin")).isNull();
    assertThat(r.status()).isGreaterThanOrEqualTo(400);
  }

  @Test
  void without_configured_origins_nothing_is_allowed() {
    try (TestServer plain = TestServer.start()) {
      Http.Response r = preflight(plain, "/v1/chat/completions", CHAT_UI);

      assertThat(r.header("Access-Control-Allow-Origin")).isNull();
      assertThat(r.status()).isGreaterThanOrEqualTo(400);
    }
  }
}
