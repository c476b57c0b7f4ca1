package io.aryabhatta.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.secrets.SecretResolver;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class HttpToolExecutionTest {
  private static final String TOKEN = "s3cr3t/token+value";
  private static final int CAP = 1_048_576;

  private final ObjectMapper mapper = Json.mapper();
  private final List<String> secretLookups = new CopyOnWriteArrayList<>();
  private final SecretResolver secrets = (workspace, name) -> {
    secretLookups.add(workspace + "/" + name);
    return name.equals("API_TOKEN") ? Optional.of(TOKEN) : Optional.empty();
  };
  private final ToolExecutor executor = new ToolExecutor(new OkHttpClient(), mapper, secrets,
      new AddressGuard(List.of("127.0.0.1")), Clock.systemUTC());
  private final ToolContext context = new ToolContext("ws-1", "call-42");

  @Test
  void url_placeholders_are_encoded_as_one_path_segment() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      ToolOutcome outcome = run(tool("GET", target.url("/items/{id}"), Map.of(), Map.of(), null), "{\"id\": \"a b/c?d\"}");
      assertThat(outcome.ok()).isTrue();
      assertThat(outcome.result()).isEqualTo("ok");
      assertThat(outcome.statusCode()).isEqualTo(200);
      assertThat(target.only().uri().getRawPath()).isEqualTo("/items/a%20b%2Fc%3Fd");
      assertThat(target.only().uri().getRawQuery()).isNull();
    }
  }

  @Test
  void get_sends_arguments_the_url_does_not_use_as_query_parameters() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      run(tool("GET", target.url("/search/{category}"), Map.of(), Map.of(), null),
          "{\"category\": \"books\", \"q\": \"war & peace\", \"limit\": 5, \"tags\": [\"a\", \"b\"]}");
      FakeTarget.Received received = target.only();
      assertThat(received.method()).isEqualTo("GET");
      assertThat(received.uri().getRawPath()).isEqualTo("/search/books");
      assertThat(received.uri().getRawQuery()).isEqualTo("limit=5&q=war%20%26%20peace&tags=a&tags=b");
    }
  }

  @Test
  void post_without_a_body_template_sends_the_arguments_object() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.respond(exchange, 201, "application/json", "{\"id\":1}"))) {
      ToolOutcome outcome = run(tool("POST", target.url("/orders"), Map.of(), Map.of(), null),
          "{\"item\": \"pen\", \"quantity\": 3, \"gift\": false}");
      assertThat(outcome.ok()).isTrue();
      assertThat(outcome.statusCode()).isEqualTo(201);
      assertThat(outcome.result()).isEqualTo("{\"id\":1}");
      FakeTarget.Received received = target.only();
      assertThat(received.header("Content-Type")).startsWith("application/json");
      assertThat(json(received.body())).isEqualTo(json("{\"item\": \"pen\", \"quantity\": 3, \"gift\": false}"));
      assertThat(received.uri().getRawQuery()).isNull();
    }
  }

  @Test
  void body_template_keeps_argument_types_and_fills_longer_strings_as_text() throws IOException {
    JsonNode body = json("""
        {"order": {"id": "{order_id}", "qty": "{quantity}", "gift": "{gift}", "coupon": "{coupon}",
                   "note": "Order {order_id} for {name}", "lines": "{lines}"},
         "tags": ["{tag}", "fixed"], "literal": "{not_a_param}", "auth": "{{secret.API_TOKEN}}"}
        """);
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "done")) {
      run(tool("PUT", target.url("/orders/{order_id}"), Map.of(), Map.of(), body),
          "{\"order_id\": \"A-7\", \"quantity\": 3, \"gift\": true, \"name\": \"Ravi\", \"tag\": 12.5,"
              + " \"lines\": [{\"sku\": \"x\"}]}");
      assertThat(json(target.only().body())).isEqualTo(json("""
          {"order": {"id": "A-7", "qty": 3, "gift": true, "note": "Order A-7 for Ravi", "lines": [{"sku": "x"}]},
           "tags": [12.5, "fixed"], "literal": "{not_a_param}", "auth": "s3cr3t/token+value"}
          """));
      assertThat(target.only().uri().getRawPath()).isEqualTo("/orders/A-7");
    }
  }

  @Test
  void headers_and_query_are_templated_with_arguments_and_secrets() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/v1/report"),
          Map.of("Authorization", "Bearer {{secret.API_TOKEN}}", "X-Customer", "customer-{customer}",
              "X-Optional", "{missing_optional}"),
          Map.of("lang", "{lang}", "page", "{page}"), null, 5_000);
      run(tool(spec), "{\"customer\": \"c 9\", \"lang\": \"hi\", \"extra\": \"x\"}");
      FakeTarget.Received received = target.only();
      assertThat(received.header("Authorization")).isEqualTo("Bearer " + TOKEN);
      assertThat(received.header("X-Customer")).isEqualTo("customer-c 9");
      assertThat(received.headers().containsKey("X-optional")).isFalse();
      assertThat(received.header("Idempotency-Key")).isEqualTo("call-42");
      assertThat(received.uri().getRawQuery()).isEqualTo("lang=hi&extra=x");
      assertThat(secretLookups).containsExactly("ws-1/API_TOKEN");
    }
  }

  @Test
  void a_secret_echoed_back_by_the_target_is_redacted() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.respond(exchange, 200, "text/plain",
        "auth=" + request.header("Authorization") + " query=" + request.uri().getRawQuery()))) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/echo"),
          Map.of("Authorization", "Bearer {{secret.API_TOKEN}}"), Map.of("key", "{{secret.API_TOKEN}}"), null, 5_000);
      ToolOutcome outcome = run(tool(spec), "{}");
      assertThat(outcome.ok()).isTrue();
      assertThat(outcome.result()).isEqualTo("auth=Bearer *** query=key=***");
      assertThat(target.only().uri().getRawQuery()).contains("s3cr3t");
    }
  }

  @Test
  void a_secret_echoed_in_an_error_response_is_redacted() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.respond(exchange, 401, "application/json",
        "{\"error\": \"bad token " + request.header("X-Key").replace("/", "\\/") + "\"}"))) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/"), Map.of("X-Key", "{{secret.API_TOKEN}}"), Map.of(), null, 5_000);
      ToolOutcome outcome = run(tool(spec), "{}");
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.result()).doesNotContain("s3cr3t").contains("bad token ***");
    }
  }

  @Test
  void an_argument_cannot_pull_in_a_secret() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/"), Map.of("X-Note", "{note}"), Map.of(), null, 5_000);
      run(tool(spec), "{\"note\": \"{{secret.API_TOKEN}}\"}");
      assertThat(target.only().header("X-Note")).isEqualTo("{{secret.API_TOKEN}}");
      assertThat(secretLookups).isEmpty();
    }
  }

  @Test
  void a_missing_secret_is_a_tool_error_naming_it_and_nothing_is_sent() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/"), Map.of("X-Key", "{{secret.SHOP_TOKEN}}"), Map.of(), null, 5_000);
      ToolOutcome outcome = run(tool(spec), "{}");
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.result()).contains("secret 'SHOP_TOKEN' is not set");
      assertThat(target.received()).isEmpty();
    }
  }

  @Test
  void a_missing_url_argument_is_a_tool_error() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "ok")) {
      ToolOutcome outcome = run(tool("GET", target.url("/items/{id}"), Map.of(), Map.of(), null), "{}");
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.result()).contains("argument 'id' is required by the URL");
      assertThat(target.received()).isEmpty();
    }
  }

  @Test
  void a_non_2xx_answer_is_a_tool_error_with_status_and_snippet() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) ->
        FakeTarget.respond(exchange, 404, "text/plain", "order 7 not found " + "x".repeat(3_000)))) {
      ToolOutcome outcome = run(tool("GET", target.url("/orders/7"), Map.of(), Map.of(), null), "{}");
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.statusCode()).isEqualTo(404);
      assertThat(outcome.result()).startsWith("HTTP 404 from 127.0.0.1: order 7 not found xxx");
      assertThat(outcome.result().length()).isLessThan(600);
    }
  }

  @Test
  void an_unreachable_target_is_a_tool_error() throws IOException {
    String url;
    try (FakeTarget closed = FakeTarget.replying(200, "text/plain", "ok")) {
      url = closed.url("/gone");
    }
    ToolOutcome outcome = run(tool("DELETE", url, Map.of(), Map.of(), null), "{\"id\": \"7\"}");
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).startsWith("cannot connect to 127.0.0.1:");
  }

  @Test
  void delete_without_a_body_template_sends_arguments_as_query() throws IOException {
    try (FakeTarget target = FakeTarget.replying(204, null, "")) {
      ToolOutcome outcome = run(tool("delete", target.url("/orders/{order_id}"), Map.of(), Map.of(), null),
          "{\"order_id\": \"A 1\", \"reason\": \"dup\"}");
      assertThat(outcome.ok()).isTrue();
      assertThat(outcome.result()).isEqualTo("(empty response body, HTTP 204)");
      assertThat(target.only().method()).isEqualTo("DELETE");
      assertThat(target.only().uri().getRawPath()).isEqualTo("/orders/A%201");
      assertThat(target.only().uri().getRawQuery()).isEqualTo("reason=dup");
    }
  }

  @Test
  void a_hanging_target_times_out_as_a_tool_error_of_unknown_outcome() throws IOException {
    CountDownLatch release = new CountDownLatch(1);
    try (FakeTarget target = FakeTarget.start((exchange, request) -> await(release))) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/slow"), Map.of(), Map.of(), null, 300);
      long started = System.nanoTime();
      ToolOutcome outcome = run(tool(spec), "{}");
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.outcomeUnknown()).isTrue();
      assertThat(outcome.result()).contains("timed out after 300 ms");
      assertThat(elapsedMs).isBetween(250L, 3_000L);
      assertThat(outcome.durationMs()).isBetween(250L, 3_000L);
    } finally {
      release.countDown();
    }
  }

  @Test
  void the_tools_timeout_alone_bounds_the_call_not_the_read_timeout_of_the_base_client() throws IOException {
    ToolExecutor shortReads = new ToolExecutor(new OkHttpClient.Builder().readTimeout(Duration.ofMillis(200)).build(),
        mapper, secrets, new AddressGuard(List.of("127.0.0.1")), Clock.systemUTC());
    CountDownLatch release = new CountDownLatch(1);
    try (FakeTarget target = FakeTarget.start((exchange, request) -> await(release))) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/slow"), Map.of(), Map.of(), null, 1_000);
      long started = System.nanoTime();
      ToolOutcome outcome = shortReads.execute(tool(spec), json("{}"), context);
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;
      assertThat(outcome.result()).contains("timed out after 1000 ms");
      assertThat(elapsedMs).isBetween(950L, 4_000L);
    } finally {
      release.countDown();
    }
  }

  @Test
  void a_5_mib_response_is_capped_with_a_marker() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> streamBytes(exchange, 5 * CAP))) {
      long started = System.nanoTime();
      ToolOutcome outcome = run(tool("GET", target.url("/big"), Map.of(), Map.of(), null), "{}");
      assertThat(outcome.ok()).isTrue();
      String marker = "\n[truncated: response exceeded 1048576 bytes]";
      assertThat(outcome.result()).endsWith(marker);
      assertThat(outcome.result()).hasSize(CAP + marker.length());
      assertThat(outcome.result()).startsWith("aaaa");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }
  }

  @Test
  void interrupting_the_caller_cancels_the_call_promptly() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (FakeTarget target = FakeTarget.start((exchange, request) -> {
      arrived.countDown();
      await(release);
    })) {
      HttpToolSpec spec = new HttpToolSpec("POST", target.url("/slow"), Map.of(), Map.of(), null, 60_000);
      AtomicReference<ToolOutcome> outcome = new AtomicReference<>();
      AtomicBoolean stillInterrupted = new AtomicBoolean();
      Thread caller = Thread.ofVirtual().start(() -> {
        outcome.set(run(tool(spec), "{}"));
        stillInterrupted.set(Thread.currentThread().isInterrupted());
      });
      assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();
      long interruptedAt = System.nanoTime();
      caller.interrupt();
      assertThat(caller.join(Duration.ofSeconds(2))).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - interruptedAt)).isLessThan(Duration.ofSeconds(1));
      assertThat(outcome.get().ok()).isFalse();
      assertThat(outcome.get().result()).contains("cancelled");
      assertThat(stillInterrupted).isTrue();
    } finally {
      release.countDown();
    }
  }

  @Test
  void redirects_are_followed_and_bounded() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> {
      switch (request.uri().getPath()) {
        case "/old" -> FakeTarget.redirect(exchange, "/new");
        case "/loop" -> FakeTarget.redirect(exchange, "/loop");
        default -> FakeTarget.respond(exchange, 200, "text/plain", "moved here");
      }
    })) {
      ToolOutcome moved = run(tool("GET", target.url("/old"), Map.of(), Map.of(), null), "{}");
      assertThat(moved.ok()).isTrue();
      assertThat(moved.result()).isEqualTo("moved here");
      ToolOutcome loop = run(tool("GET", target.url("/loop"), Map.of(), Map.of(), null), "{}");
      assertThat(loop.ok()).isFalse();
      assertThat(loop.result()).contains("too many redirects");
      assertThat(target.received().stream().filter(r -> r.uri().getPath().equals("/loop"))).hasSize(6);
    }
  }

  @Test
  void a_redirect_to_another_origin_does_not_carry_the_tools_headers() throws IOException {
    try (FakeTarget other = FakeTarget.replying(200, "text/plain", "other");
        FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.redirect(exchange, other.url("/landing")))) {
      HttpToolSpec spec = new HttpToolSpec("GET", target.url("/"), Map.of("Authorization", "Bearer {{secret.API_TOKEN}}"),
          Map.of(), null, 5_000);
      ToolOutcome outcome = run(tool(spec), "{}");
      assertThat(outcome.result()).isEqualTo("other");
      assertThat(other.only().header("Authorization")).isNull();
      assertThat(other.only().header("Idempotency-Key")).isEqualTo("call-42");
    }
  }

  @Test
  void http_get_returns_text_and_sends_the_idempotency_key() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) ->
        FakeTarget.respond(exchange, 200, "text/html; charset=utf-8", "<h1>नमस्ते</h1>"))) {
      ToolOutcome outcome = httpGet(target.url("/page"));
      assertThat(outcome.ok()).isTrue();
      assertThat(outcome.result()).isEqualTo("<h1>नमस्ते</h1>");
      assertThat(target.only().header("Idempotency-Key")).isEqualTo("call-42");
    }
  }

  @Test
  void http_get_refuses_binary_content() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "image/png", "PNG")) {
      ToolOutcome outcome = httpGet(target.url("/logo.png"));
      assertThat(outcome.ok()).isFalse();
      assertThat(outcome.result()).contains("image/png").contains("text only");
    }
  }

  @Test
  void http_get_accepts_json_and_xml_flavours() {
    for (String type : List.of("application/json", "application/problem+json", "application/atom+xml", "text/csv")) {
      assertThat(HttpGetTool.textLike(okhttp3.MediaType.get(type))).as(type).isTrue();
    }
    for (String type : List.of("application/octet-stream", "image/png", "application/pdf", "video/mp4")) {
      assertThat(HttpGetTool.textLike(okhttp3.MediaType.get(type))).as(type).isFalse();
    }
  }

  @Test
  void http_get_of_a_non_http_url_is_a_tool_error() {
    assertThat(httpGet("file:///etc/passwd").result()).contains("not an http(s) URL");
    assertThat(httpGet("gopher://127.0.0.1/").ok()).isFalse();
  }

  private ToolOutcome httpGet(String url) {
    return executor.execute(new ToolDefinition(null, null, "http_get", "builtin", "", null, null, true, false),
        mapper.createObjectNode().put("url", url), context);
  }

  private ToolOutcome run(ToolDefinition tool, String arguments) {
    return executor.execute(tool, json(arguments), context);
  }

  private ToolDefinition tool(String method, String url, Map<String, String> headers, Map<String, String> query, JsonNode body) {
    return tool(new HttpToolSpec(method, url, headers, query, body, 5_000));
  }

  private ToolDefinition tool(HttpToolSpec spec) {
    JsonNode parameters = json("""
        {"type": "object", "properties": {"id": {"type": "string"}, "order_id": {"type": "string"},
          "quantity": {"type": "integer"}, "gift": {"type": "boolean"}, "coupon": {"type": "string"},
          "name": {"type": "string"}, "tag": {}, "lines": {"type": "array"}, "customer": {"type": "string"},
          "lang": {"type": "string"}, "page": {"type": "integer"}, "missing_optional": {"type": "string"},
          "note": {"type": "string"}}}
        """);
    return new ToolDefinition("tool-1", "ws-1", "test_tool", "http", "", parameters, spec, true, false);
  }

  private static void streamBytes(com.sun.net.httpserver.HttpExchange exchange, int total) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, 0);
    byte[] chunk = "a".repeat(64 * 1024).getBytes();
    try (OutputStream out = exchange.getResponseBody()) {
      for (int sent = 0; sent < total; sent += chunk.length) {
        out.write(chunk);
      }
    } catch (IOException clientWentAway) {
      // expected once the client has read its cap
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private JsonNode json(String text) {
    return Json.read(mapper, text);
  }
}
