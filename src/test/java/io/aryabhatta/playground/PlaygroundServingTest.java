package io.aryabhatta.playground;

import static io.aryabhatta.testing.FakeModelServer.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The page is served from the jar without a key; the API around it keeps its rules. */
class PlaygroundServingTest {
  static FakeModelServer fake;
  static TestServer server;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void root_serves_the_playground_page_without_a_key() {
    var r = server.anonymous().get("/");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/html");
    assertThat(r.text()).contains("<title>Aryabhatta");
    assertThat(r.header("Content-Security-Policy")).contains("default-src 'self'");
  }

  @Test
  void page_scripts_are_served_as_javascript() {
    var r = server.anonymous().get("/js/app.js");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).contains("javascript");
  }

  @Test
  void api_still_needs_a_key() {
    var r = server.anonymous().get("/api/agents");
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
  }

  @Test
  void unknown_api_route_is_a_404_problem() {
    var r = server.admin.get("/api/no-such-thing");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.json().get("detail").asText()).contains("/api/no-such-thing");
  }

  @Test
  void unknown_page_is_a_404() {
    assertThat(server.anonymous().get("/no-such-page.html").status()).isEqualTo(404);
  }

  @Test
  void conversations_are_listed_newest_first_and_by_agent() {
    AgentSetup setup = new AgentSetup(server.admin, fake);
    String first = setup.agent(List.of(), Map.of());
    String second = setup.agent(List.of(), Map.of());
    fake.respondWith(request -> text("hi"));
    String older = conversationOf(server.admin.post("/api/agents/" + first + "/runs", Map.of("input", "a")).json());
    String newer = conversationOf(server.admin.post("/api/agents/" + second + "/runs", Map.of("input", "b")).json());

    JsonNode all = server.admin.get("/api/conversations?limit=1").json();
    assertThat(all.at("/data/0/id").asText()).isEqualTo(newer);
    assertThat(all.get("next_cursor").isNull()).isFalse();
    JsonNode next = server.admin.get("/api/conversations?limit=1&after=" + all.get("next_cursor").asText()).json();
    assertThat(next.at("/data/0/id").asText()).isEqualTo(older);

    JsonNode ofFirst = server.admin.get("/api/conversations?agent_id=" + first).json();
    assertThat(ofFirst.get("data")).extracting(c -> c.get("id").asText()).containsExactly(older);
    assertThat(ofFirst.at("/data/0/agent_id").asText()).isEqualTo(first);
  }

  @Test
  void conversations_of_another_workspace_are_not_listed() {
    var workspace = server.admin.post("/api/workspaces", Map.of("name", "other-" + System.nanoTime())).json();
    String key = server.admin.post("/api/workspaces/" + workspace.get("id").asText() + "/keys", Map.of("name", "k"))
        .json().get("key").asText();
    assertThat(server.as(key).get("/api/conversations").json().get("data")).isEmpty();
  }

  private static String conversationOf(JsonNode run) {
    return run.get("conversation_id").asText();
  }
}
