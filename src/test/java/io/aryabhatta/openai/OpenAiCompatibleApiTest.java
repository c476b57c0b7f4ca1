package io.aryabhatta.openai;

import static io.aryabhatta.testing.FakeModelServer.error;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.NodeScripts;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible API, driven by the official OpenAI Node SDK and by plain HTTP. */
class OpenAiCompatibleApiTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start();
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void the_official_openai_node_sdk_works_against_an_agent_unchanged() throws Exception {
    NodeScripts.assumeInstalled("openai");
    setup.agent(List.of("calculator"), Map.of("name", "sdk-calc"));
    fake.enqueue(
        toolCall("calculator", "{\"expression\":\"6 * 7\"}"), text("It is 42."),
        toolCall("calculator", "{\"expression\":\"2 + 3\"}").withText("Let me add."),
        text("The answer is 5.").withChunkDelay(Duration.ofMillis(40)),
        text("It was 17."),
        error(401),
        error(401));
    int requestsBefore = fake.requests().size();

    JsonNode out = runNodeScript(Map.of("CALC_MODEL", "sdk-calc"));

    assertThat(out.at("/models/ids")).extracting(JsonNode::asText).contains("sdk-calc");
    assertThat(out.at("/models/first/object").asText()).isEqualTo("model");
    assertThat(out.at("/models/first/owned_by").asText()).isEqualTo("aryabhatta");
    assertThat(out.at("/model/id").asText()).isEqualTo("sdk-calc");

    JsonNode completion = out.get("completion");
    assertThat(completion.get("object").asText()).isEqualTo("chat.completion");
    assertThat(completion.get("id").asText()).startsWith("chatcmpl-");
    assertThat(completion.get("model").asText()).isEqualTo("sdk-calc");
    assertThat(completion.at("/choices/0/message/role").asText()).isEqualTo("assistant");
    assertThat(completion.at("/choices/0/message/content").asText()).isEqualTo("It is 42.");
    assertThat(completion.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
    assertThat(completion.at("/usage/total_tokens").asInt()).isPositive();
    String runId = completion.get("id").asText().substring("chatcmpl-".length());
    JsonNode steps = api.get("/api/runs/" + runId + "/steps").json().get("data");
    assertThat(steps.get(1).get("name").asText()).isEqualTo("calculator");
    assertThat(steps.get(1).get("result").asText()).isEqualTo("42");

    JsonNode stream = out.get("stream");
    assertThat(stream.get("objects")).extracting(JsonNode::asText).containsExactly("chat.completion.chunk");
    assertThat(stream.get("ids")).hasSize(1);
    assertThat(stream.get("role").asText()).isEqualTo("assistant");
    assertThat(stream.get("content").asText()).isEqualTo("Let me add.\n\nThe answer is 5.");
    assertThat(stream.get("content_chunks").asInt()).isGreaterThan(2);
    assertThat(stream.get("finish_reason").asText()).isEqualTo("stop");
    assertThat(stream.at("/usage_chunk/total_tokens").asInt()).isPositive();
    assertThat(stream.get("last_is_usage").asBoolean()).isTrue();

    assertThat(out.at("/multi_turn/choices/0/message/content").asText()).isEqualTo("It was 17.");

    assertThat(out.at("/unknown_model/error/class").asText()).isEqualTo("NotFoundError");
    assertThat(out.at("/unknown_model/error/status").asInt()).isEqualTo(404);
    assertThat(out.at("/unknown_model/error/code").asText()).isEqualTo("model_not_found");
    assertThat(out.at("/bad_key/error/class").asText()).isEqualTo("AuthenticationError");
    assertThat(out.at("/bad_key/error/code").asText()).isEqualTo("invalid_api_key");
    assertThat(out.at("/bad_request/error/class").asText()).isEqualTo("BadRequestError");
    assertThat(out.at("/bad_request/error/param").asText()).isEqualTo("messages");
    assertThat(out.at("/bad_request/error/type").asText()).isEqualTo("invalid_request_error");

    assertThat(out.at("/failed_run/error/status").asInt()).isEqualTo(502);
    assertThat(out.at("/failed_run/error/code").asText()).isEqualTo("model_unauthorized");
    assertThat(out.at("/failed_stream/error/is_api_error").asBoolean()).isTrue();
    assertThat(out.at("/failed_stream/error/code").asText()).isEqualTo("model_unauthorized");
    // The SDK did not retry the failed run: one model request each for the two failing cases.
    assertThat(fake.requests().size() - requestsBefore).isEqualTo(2 + 2 + 1 + 1 + 1);
    assertThat(fake.pendingReplies()).isZero();
  }

  @Test
  void earlier_turns_and_client_system_messages_reach_the_model() {
    setup.agent(List.of(), Map.of("name", "history-agent", "system_prompt", "You are terse."));
    fake.enqueue(text("Blue."));

    Http.Response r = api.post("/v1/chat/completions", Map.of("model", "history-agent", "messages", List.of(
        Map.of("role", "system", "content", "Answer in English."),
        Map.of("role", "user", "content", "My favourite colour is blue."),
        Map.of("role", "assistant", "content", "Got it."),
        Map.of("role", "user", "content", "What is my favourite colour?"))));

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().at("/choices/0/message/content").asText()).isEqualTo("Blue.");
    JsonNode sent = fake.lastRequest().messages();
    assertThat(sent).extracting(m -> m.get("role").asText()).containsExactly("system", "user", "assistant", "user");
    assertThat(sent.get(0).get("content").asText()).isEqualTo("You are terse.\n\nAnswer in English.");
    assertThat(sent.get(3).get("content").asText()).isEqualTo("What is my favourite colour?");
  }

  @Test
  void a_run_waiting_for_approval_is_a_409_pointing_to_the_platform_api() {
    setup.agent(List.of("calculator"), Map.of("name", "careful-calc", "tool_approval", "always"));
    fake.enqueue(toolCall("calculator", "{\"expression\":\"1 + 1\"}"));

    Http.Response r = api.post("/v1/chat/completions",
        Map.of("model", "careful-calc", "messages", List.of(Map.of("role", "user", "content", "1 + 1?"))));

    assertThat(r.status()).as(r.toString()).isEqualTo(409);
    assertThat(r.header("x-should-retry")).isEqualTo("false");
    assertThat(r.json().at("/error/code").asText()).isEqualTo("run_requires_action");
    assertThat(r.json().at("/error/message").asText()).contains("/approvals").contains("calculator");
  }

  @Test
  void requests_the_api_cannot_honour_are_400_with_the_param() {
    setup.agent(List.of(), Map.of("name", "plain-agent"));
    Map<String, Object> user = Map.of("role", "user", "content", "hi");

    assertError(api.post("/v1/chat/completions", Map.of("model", "plain-agent", "messages", List.of(user),
        "tools", List.of(Map.of("type", "function", "function", Map.of("name", "f"))))), 400, "tools");
    assertError(api.post("/v1/chat/completions", Map.of("model", "plain-agent", "messages", List.of(user,
        Map.of("role", "assistant", "content", "hello")))), 400, "messages");
    assertError(api.post("/v1/chat/completions", Map.of("model", "plain-agent", "messages", List.of(
        Map.of("role", "user", "content", List.of(Map.of("type", "image_url", "image_url", Map.of("url", "x"))))))),
        400, "messages[0].content[0]");
    assertError(api.post("/v1/chat/completions", Map.of("model", "plain-agent", "stream", "yes",
        "messages", List.of(user))), 400, "stream");
    assertError(api.post("/v1/chat/completions", "{not json"), 400, null);
  }

  @Test
  void v1_errors_use_openai_shape_and_api_errors_stay_problem_json() {
    Http.Response noKey = server.anonymous().get("/v1/models");
    assertThat(noKey.status()).isEqualTo(401);
    assertThat(noKey.json().at("/error/code").asText()).isEqualTo("invalid_api_key");
    assertThat(noKey.json().at("/error/type").asText()).isEqualTo("invalid_request_error");

    Http.Response noRoute = api.get("/v1/nothing-here");
    assertThat(noRoute.status()).isEqualTo(404);
    assertThat(noRoute.json().get("error").has("message")).isTrue();

    Http.Response apiError = server.anonymous().get("/api/agents");
    assertThat(apiError.status()).isEqualTo(401);
    assertThat(apiError.header("Content-Type")).startsWith("application/problem+json");
  }

  @Test
  void another_workspaces_agent_is_not_a_model() {
    setup.agent(List.of(), Map.of("name", "private-agent"));
    Http other = Workspaces.otherWorkspace(server, "openai-other");

    assertThat(other.get("/v1/models").json().get("data")).isEmpty();
    Http.Response r = other.post("/v1/chat/completions",
        Map.of("model", "private-agent", "messages", List.of(Map.of("role", "user", "content", "hi"))));
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().at("/error/code").asText()).isEqualTo("model_not_found");
  }

  private static void assertError(Http.Response r, int status, String param) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    JsonNode error = r.json().get("error");
    assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.get("message").asText()).isNotBlank();
    if (param != null) {
      assertThat(error.get("param").asText()).isEqualTo(param);
    }
  }

  // ---- running the Node script ----

  private static JsonNode runNodeScript(Map<String, String> env) throws Exception {
    NodeScripts.assumeInstalled("openai");
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("ARYABHATTA_BASE_URL", server.baseUrl());
    all.put("ARYABHATTA_KEY", TestServer.ADMIN_KEY);
    return NodeScripts.runJson("openai-sdk-check.mjs", all);
  }


}
