package io.aryabhatta.logs;

import static io.aryabhatta.testing.FakeModelServer.text;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What an operator reads: one line per request and per run transition, with ids, and no secret. */
class LogLinesTest {
  static final String SECRET = "sk-log-test-secret-value-123456";
  static FakeModelServer fake;
  static TestServer server;
  static ListAppender<ILoggingEvent> captured = new ListAppender<>();
  static JsonNode run;

  @BeforeAll
  static void start() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    captured.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    captured.start();
    root.addAppender(captured);
    fake = FakeModelServer.start();
    server = TestServer.start();
    AgentSetup setup = new AgentSetup(server.admin, fake);
    server.admin.post("/api/secrets", Map.of("name", "LOG_SECRET", "value", SECRET));
    String agent = setup.agent(List.of(), Map.of());
    fake.enqueue(text("done"));
    run = server.admin.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "hi")).json();
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(captured);
    server.close();
    fake.close();
  }

  private static List<ILoggingEvent> lines() {
    synchronized (captured.list) {
      return List.copyOf(captured.list);
    }
  }

  @Test
  void each_request_is_one_access_line_with_its_request_id() {
    Http.Response r = server.admin.get("/api/runs/" + run.get("id").asText());
    String requestId = r.header("X-Request-Id");
    assertThat(lines()).filteredOn(e -> e.getLoggerName().equals("access"))
        .anySatisfy(e -> assertThat(e.getFormattedMessage())
            .contains("GET /api/runs/" + run.get("id").asText() + " 200").contains("request_id=" + requestId));
  }

  @Test
  void a_refusal_under_v1_is_logged_with_the_status_sent() {
    // A validation failure is 422 under /api and 400 under /v1, as OpenAI answers it.
    Http.Response r = server.admin.post("/v1/chat/completions", Map.of("model", "x", "messages", "not a list"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(lines()).filteredOn(e -> e.getFormattedMessage().startsWith("POST /v1/chat/completions"))
        .isNotEmpty()
        .allSatisfy(e -> assertThat(e.getFormattedMessage())
            .doesNotContain("-> 422").doesNotContain("/v1/chat/completions 422 "))
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("-> 400 "));
  }

  @Test
  void run_transitions_are_logged_with_the_run_id_in_the_context() {
    String runId = run.get("id").asText();
    assertThat(lines()).filteredOn(e -> e.getFormattedMessage().contains("Run " + runId + ": run.completed"))
        .singleElement()
        .satisfies(e -> assertThat(e.getMDCPropertyMap()).containsEntry("run_id", runId));
    assertThat(lines()).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("Run " + runId + ": run.running"));
  }

  @Test
  void json_format_writes_one_object_per_line_and_no_line_holds_a_secret() throws Exception {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    encoder.setWithMessage(false);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    for (ILoggingEvent event : lines()) {
      String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
      assertThat(line).doesNotContain(SECRET).doesNotContain(TestServer.ADMIN_KEY);
      assertThat(line.strip()).doesNotContain("\n");
      assertThat(Http.JSON.readTree(line).has("formattedMessage")).isTrue();
    }
    assertThat(lines()).isNotEmpty();
  }
}
