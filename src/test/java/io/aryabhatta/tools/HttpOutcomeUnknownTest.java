package io.aryabhatta.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.secrets.SecretResolver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * Whether a failed HTTP call may have reached its target: a failure before any byte of the
 * request left is a plain error, one after it an unknown outcome (the target may have acted).
 * Every target is a real server on loopback.
 */
class HttpOutcomeUnknownTest {
  private static final String TOKEN = "s3cr3t-token-value";

  private final ObjectMapper mapper = Json.mapper();
  private final SecretResolver secrets = (workspace, name) -> name.equals("API_TOKEN") ? Optional.of(TOKEN)
      : Optional.empty();
  /** Resolves {@code nowhere.test} to nothing, as DNS does for a name that does not exist. */
  private final Dns resolver = host -> {
    if (host.equals("nowhere.test")) {
      throw new UnknownHostException(host);
    }
    return Dns.SYSTEM.lookup(host);
  };
  private final ToolExecutor executor = executor(List.of("127.0.0.1"));
  private final ToolContext context = new ToolContext("ws-1", "call-7");

  // --- the request may have been received: unknown --------------------------------------------

  @Test
  void a_target_that_reads_the_request_and_drops_the_connection_leaves_the_outcome_unknown() throws IOException {
    try (RawTarget target = RawTarget.readingThenClosing()) {
      HttpToolSpec spec = new HttpToolSpec("POST", target.url("/orders"),
          Map.of("Authorization", "Bearer {{secret.API_TOKEN}}"), Map.of("key", "{{secret.API_TOKEN}}"), null, 5_000);

      ToolOutcome outcome = http(spec);

      assertUnknown(outcome);
      assertThat(outcome.result())
          .startsWith("outcome unknown: the request to 127.0.0.1:" + target.port() + " may have been received")
          .doesNotContain(TOKEN);
      assertThat(target.requestLines()).singleElement().asString().startsWith("POST /orders?key=");
    }
  }

  @Test
  void a_target_that_never_answers_leaves_the_outcome_unknown_after_the_timeout() throws IOException {
    try (RawTarget target = RawTarget.silent()) {
      long started = System.nanoTime();
      ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/pay"), Map.of(), Map.of(), null, 300));
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;

      assertUnknown(outcome);
      assertThat(outcome.result()).isEqualTo("outcome unknown: the request to 127.0.0.1:" + target.port()
          + " may have been received (timed out after 300 ms waiting for the answer)");
      assertThat(elapsedMs).isBetween(250L, 3_000L);
    }
  }

  @Test
  void a_502_or_504_from_a_gateway_leaves_the_outcome_unknown() throws IOException {
    for (int status : List.of(502, 504)) {
      try (FakeTarget target = FakeTarget.replying(status, "text/plain", "upstream did not answer")) {
        ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/pay"), Map.of(), Map.of(), null, 5_000));

        assertUnknown(outcome);
        assertThat(outcome.statusCode()).isEqualTo(status);
        assertThat(outcome.result()).as("HTTP %d", status)
            .startsWith("outcome unknown: HTTP " + status + " from 127.0.0.1")
            .contains("upstream did not answer");
      }
    }
  }

  @Test
  void other_error_statuses_keep_their_classification() throws IOException {
    Map<Integer, Boolean> transientByStatus = Map.of(500, true, 503, true, 429, true, 408, true, 404, false,
        400, false);
    for (Map.Entry<Integer, Boolean> expected : transientByStatus.entrySet()) {
      try (FakeTarget target = FakeTarget.replying(expected.getKey(), "text/plain", "no")) {
        ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/"), Map.of(), Map.of(), null, 5_000));

        assertThat(outcome.ok()).isFalse();
        assertThat(outcome.outcomeUnknown()).as("HTTP %d", expected.getKey()).isFalse();
        assertThat(outcome.transientFailure()).as("HTTP %d", expected.getKey()).isEqualTo(expected.getValue());
        assertThat(outcome.result()).startsWith("HTTP " + expected.getKey() + " from 127.0.0.1");
      }
    }
  }

  @Test
  void a_redirect_counts_as_an_answer_and_each_hop_is_judged_on_its_own() throws IOException {
    int closedPort = closedPort();
    try (RawTarget dropping = RawTarget.readingThenClosing();
        FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.redirect(exchange,
            request.uri().getPath().equals("/to-closed") ? "http://127.0.0.1:" + closedPort + "/"
                : dropping.url("/landing")))) {
      ToolOutcome refused = http(new HttpToolSpec("GET", target.url("/to-closed"), Map.of(), Map.of(), null, 5_000));
      ToolOutcome dropped = http(new HttpToolSpec("GET", target.url("/to-dropping"), Map.of(), Map.of(), null, 5_000));

      assertKnownToHaveHadNoEffect(refused);
      assertThat(refused.transientFailure()).isTrue();
      assertThat(refused.result()).startsWith("cannot connect to 127.0.0.1:" + closedPort);
      assertUnknown(dropped);
      assertThat(dropped.result()).startsWith("outcome unknown: the request to 127.0.0.1:" + dropping.port());
    }
  }

  @Test
  void a_post_answered_with_a_redirect_whose_next_hop_fails_has_an_unknown_outcome() throws IOException {
    int closedPort = closedPort();
    try (FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.redirect(exchange,
        "http://127.0.0.1:" + closedPort + "/receipt"))) {
      ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/orders"), Map.of(), Map.of(), null, 5_000));

      // The first target received the POST and answered: it may have created the order.
      assertUnknown(outcome);
      assertThat(outcome.result()).startsWith("outcome unknown: 127.0.0.1 received the request")
          .contains("cannot connect to 127.0.0.1:" + closedPort);
    }
  }

  @Test
  void a_post_answered_with_a_redirect_to_a_page_that_answers_404_has_an_unknown_outcome() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> {
      if (request.uri().getPath().equals("/orders")) {
        FakeTarget.redirect(exchange, "/receipt");
      } else {
        exchange.sendResponseHeaders(404, -1);
      }
    })) {
      ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/orders"), Map.of(), Map.of(), null, 5_000));

      assertUnknown(outcome);
      assertThat(outcome.result()).startsWith("outcome unknown: 127.0.0.1 received the request").contains("HTTP 404");
    }
  }

  // --- nothing was sent: a plain error ----------------------------------------------------------

  @Test
  void a_refused_connection_is_a_transient_error_known_to_have_had_no_effect() {
    int port = closedPort();

    ToolOutcome outcome = http(new HttpToolSpec("POST", "http://127.0.0.1:" + port + "/", Map.of(), Map.of(), null,
        5_000));

    assertKnownToHaveHadNoEffect(outcome);
    assertThat(outcome.transientFailure()).isTrue();
    assertThat(outcome.result()).startsWith("cannot connect to 127.0.0.1:" + port);
  }

  @Test
  void a_connect_that_never_completes_is_a_transient_timeout_known_to_have_had_no_effect() throws IOException {
    try (RawTarget target = RawTarget.neverConnecting()) {
      ToolOutcome outcome = http(new HttpToolSpec("POST", target.url("/"), Map.of(), Map.of(), null, 300));

      assertKnownToHaveHadNoEffect(outcome);
      assertThat(outcome.transientFailure()).isTrue();
      assertThat(outcome.result()).isEqualTo(
          "timed out after 300 ms before the request to 127.0.0.1:" + target.port() + " was sent");
    }
  }

  @Test
  void an_unresolvable_host_is_an_error_known_to_have_had_no_effect() {
    ToolOutcome outcome = http(new HttpToolSpec("POST", "http://nowhere.test/", Map.of(), Map.of(), null, 5_000));

    assertKnownToHaveHadNoEffect(outcome);
    assertThat(outcome.result()).isEqualTo("cannot resolve host nowhere.test");
  }

  @Test
  void a_blocked_address_is_an_error_known_to_have_had_no_effect() throws IOException {
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "internal")) {
      ToolOutcome outcome = executor(List.of()).execute(tool(new HttpToolSpec("POST", target.url("/"), Map.of(),
          Map.of(), null, 5_000)), mapper.createObjectNode(), context);

      assertKnownToHaveHadNoEffect(outcome);
      assertThat(outcome.transientFailure()).isFalse();
      assertThat(outcome.result()).startsWith("Blocked: ");
      assertThat(target.received()).isEmpty();
    }
  }

  @Test
  void a_failed_tls_handshake_is_an_error_known_to_have_had_no_effect() throws IOException {
    try (RawTarget target = RawTarget.plainTextToTls()) {
      ToolOutcome outcome = http(new HttpToolSpec("POST", target.httpsUrl("/"), Map.of(), Map.of(), null, 5_000));

      assertKnownToHaveHadNoEffect(outcome);
      assertThat(outcome.result()).startsWith("TLS handshake with 127.0.0.1:" + target.port() + " failed");
    }
  }

  // --- http_get ---------------------------------------------------------------------------------

  @Test
  void http_get_tells_an_unknown_outcome_from_a_failure_before_sending() throws IOException {
    try (RawTarget dropping = RawTarget.readingThenClosing();
        FakeTarget gateway = FakeTarget.replying(504, "text/plain", "gateway timeout")) {
      ToolOutcome dropped = httpGet(dropping.url("/page"));
      ToolOutcome timedOutUpstream = httpGet(gateway.url("/page"));
      ToolOutcome refused = httpGet("http://127.0.0.1:" + closedPort() + "/page");

      assertUnknown(dropped);
      assertThat(dropped.result()).startsWith("outcome unknown: the request to 127.0.0.1:" + dropping.port());
      assertUnknown(timedOutUpstream);
      assertThat(timedOutUpstream.statusCode()).isEqualTo(504);
      assertKnownToHaveHadNoEffect(refused);
      assertThat(refused.transientFailure()).isTrue();
    }
  }

  private static void assertUnknown(ToolOutcome outcome) {
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.outcomeUnknown()).as(outcome.result()).isTrue();
    assertThat(outcome.transientFailure()).isTrue();
  }

  private static void assertKnownToHaveHadNoEffect(ToolOutcome outcome) {
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.outcomeUnknown()).as(outcome.result()).isFalse();
    assertThat(outcome.result()).doesNotContain("outcome unknown");
  }

  private ToolOutcome http(HttpToolSpec spec) {
    return executor.execute(tool(spec), mapper.createObjectNode(), context);
  }

  private ToolOutcome httpGet(String url) {
    return executor.execute(new ToolDefinition(null, null, "http_get", "builtin", "", null, null, true, false),
        mapper.createObjectNode().put("url", url), context);
  }

  private ToolDefinition tool(HttpToolSpec spec) {
    return new ToolDefinition("tool-1", "ws-1", "test_tool", "http", "", mapper.createObjectNode(), spec, false,
        false);
  }

  private ToolExecutor executor(List<String> allowlist) {
    return new ToolExecutor(new OkHttpClient(), mapper, secrets, new AddressGuard(allowlist, resolver),
        Clock.systemUTC());
  }

  /** A loopback port nothing listens on: connecting to it is refused. */
  private static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
