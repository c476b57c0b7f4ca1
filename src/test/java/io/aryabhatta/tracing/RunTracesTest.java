package io.aryabhatta.tracing;

import static io.aryabhatta.testing.FakeModelServer.error;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.config.ConfigLoader;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.OtlpReceiver;
import io.aryabhatta.testing.OtlpReceiver.ReceivedSpan;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.TestServer;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import io.opentelemetry.proto.trace.v1.Status.StatusCode;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs traced to a real OTLP/HTTP receiver, checked as someone reading them in Jaeger would: one
 * trace per run, its spans nested right, the generative-AI attributes, no content unless asked for,
 * errors marked, and a run resumed by another node still one trace.
 */
class RunTracesTest {
  static FakeModelServer fake;
  static OtlpReceiver receiver;
  static TestServer server;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    receiver = OtlpReceiver.start();
    server = TestServer.start(tracingTo(receiver, Map.of()));
    setup = new AgentSetup(server.admin, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    receiver.close();
    fake.close();
  }

  /** No protocol set: the default must be what a receiver on /v1/traces answers (http/protobuf). */
  static Map<String, String> tracingTo(OtlpReceiver receiver, Map<String, String> more) {
    Map<String, String> env = new HashMap<>(Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_BSP_SCHEDULE_DELAY", "50"));
    env.putAll(more);
    return env;
  }

  private static void enqueueTwoToolsThenDone() {
    fake.enqueue(toolCall("calculator", "{\"expression\":\"6 * 7\"}").withUsage(21, 5),
        toolCall("current_time", "{}").withUsage(34, 6),
        text("done").withUsage(55, 1));
  }

  private static JsonNode runAndWait(TestServer on, String agent, String input) {
    var r = on.admin.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", input));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  private static List<ReceivedSpan> awaitRunSpans(OtlpReceiver from, String runId, int count) {
    return from.await(spans -> from.ofRun(runId).size() >= count, count + " spans of run " + runId).stream()
        .filter(s -> runId.equals(s.attribute("aryabhatta.run.id"))).toList();
  }

  private static List<ReceivedSpan> named(List<ReceivedSpan> spans, String prefix) {
    return spans.stream().filter(s -> s.name().startsWith(prefix)).toList();
  }

  /** What spans say besides their ids (hex, which may hold any digits): names, statuses, attribute values. */
  private static String textOf(List<ReceivedSpan> spans) {
    StringBuilder text = new StringBuilder();
    for (ReceivedSpan span : spans) {
      text.append(span.name()).append(' ').append(span.statusMessage()).append(' ').append(span.events());
      span.attributes().forEach((key, value) -> {
        if (!key.endsWith("id")) {
          text.append(' ').append(key).append('=').append(value);
        }
      });
    }
    return text.toString();
  }

  private static JsonNode awaitSettled(TestServer on, String runId) {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode run = on.admin.get("/api/runs/" + runId).json();
      if (!List.of("queued", "running").contains(run.get("status").asText())) {
        return run;
      }
      AgentSetup.sleep(50);
    }
    throw new AssertionError("run " + runId + " did not settle");
  }

  @Test
  void a_run_is_one_trace_of_its_execution_model_calls_and_tool_calls() {
    String agent = setup.agent(List.of("calculator", "current_time"), Map.of());
    String agentName = server.admin.get("/api/agents/" + agent).json().get("name").asText();
    enqueueTwoToolsThenDone();

    JsonNode run = runAndWait(server, agent, "What is six times seven, and what time is it?");
    assertThat(run.get("status").asText()).isEqualTo("completed");
    String runId = run.get("id").asText();

    List<ReceivedSpan> spans = awaitRunSpans(receiver, runId, 6);
    assertThat(spans).hasSize(6);
    assertThat(spans).extracting(ReceivedSpan::traceId).containsOnly(spans.get(0).traceId());
    assertThat(spans).extracting(ReceivedSpan::service).containsOnly("aryabhatta");

    List<ReceivedSpan> runSpans = named(spans, "invoke_agent");
    assertThat(runSpans).hasSize(1);
    ReceivedSpan runSpan = runSpans.get(0);
    assertThat(runSpan.name()).isEqualTo("invoke_agent " + agentName);
    assertThat(runSpan.isRoot()).isTrue();
    assertThat(runSpan.status()).isNotEqualTo(StatusCode.STATUS_CODE_ERROR);
    assertThat(runSpan.attributes()).containsEntry("gen_ai.operation.name", "invoke_agent")
        .containsEntry("gen_ai.agent.name", agentName).containsEntry("gen_ai.agent.id", agent)
        .containsEntry("gen_ai.conversation.id", run.get("conversation_id").asText());

    List<ReceivedSpan> chats = named(spans, "chat ");
    assertThat(chats).hasSize(3);
    assertThat(chats).allSatisfy(chat -> {
      assertThat(chat.name()).isEqualTo("chat " + FakeModelServer.MODEL);
      assertThat(chat.kind()).isEqualTo(SpanKind.SPAN_KIND_CLIENT);
      assertThat(chat.parentSpanId()).isEqualTo(runSpan.spanId());
      assertThat(chat.attributes()).containsEntry("gen_ai.operation.name", "chat")
          .containsEntry("gen_ai.request.model", FakeModelServer.MODEL)
          .containsEntry("gen_ai.provider.name", "fake")
          .containsEntry("server.address", "127.0.0.1");
    });
    Map<Object, ReceivedSpan> chatByStep = new HashMap<>();
    chats.forEach(c -> chatByStep.put(c.attribute("aryabhatta.step.index"), c));
    assertThat(chatByStep).containsOnlyKeys(0L, 2L, 4L);
    assertThat(chatByStep.get(0L).attributes()).containsEntry("gen_ai.usage.input_tokens", 21L)
        .containsEntry("gen_ai.usage.output_tokens", 5L)
        .containsEntry("gen_ai.response.finish_reasons", List.of("tool_calls"));
    assertThat(chatByStep.get(2L).attributes()).containsEntry("gen_ai.usage.input_tokens", 34L)
        .containsEntry("gen_ai.usage.output_tokens", 6L);
    assertThat(chatByStep.get(4L).attributes()).containsEntry("gen_ai.usage.input_tokens", 55L)
        .containsEntry("gen_ai.usage.output_tokens", 1L)
        .containsEntry("gen_ai.response.finish_reasons", List.of("stop"));

    JsonNode steps = server.admin.get("/api/runs/" + runId + "/steps").json().get("data");
    List<ReceivedSpan> tools = named(spans, "execute_tool ");
    assertThat(tools).extracting(ReceivedSpan::name)
        .containsExactlyInAnyOrder("execute_tool calculator", "execute_tool current_time");
    assertThat(tools).allSatisfy(tool -> {
      assertThat(tool.parentSpanId()).isEqualTo(runSpan.spanId());
      assertThat(tool.status()).isNotEqualTo(StatusCode.STATUS_CODE_ERROR);
      int step = ((Long) tool.attribute("aryabhatta.step.index")).intValue();
      JsonNode journaled = steps.get(step);
      assertThat(tool.attributes()).containsEntry("gen_ai.operation.name", "execute_tool")
          .containsEntry("gen_ai.tool.name", journaled.get("name").asText())
          .containsEntry("gen_ai.tool.call.id", journaled.get("tool_call_id").asText());
    });

    // Content is off by default: no prompt, input, argument, result or answer, and never the key.
    assertThat(spans).allSatisfy(span -> assertThat(span.attributes()).doesNotContainKeys("gen_ai.input.messages",
        "gen_ai.output.messages", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"));
    assertThat(textOf(spans)).doesNotContain("six times seven").doesNotContain("You are a test agent")
        // 42 on its own: a random port such as 34227 may hold those digits.
        .doesNotContain("6 * 7").doesNotContainPattern("(?<![0-9])42(?![0-9])").doesNotContain("done")
        .doesNotContain(FakeModelServer.API_KEY);

    // The run's journaled trace context is its run span's.
    String journaled = server.server().database().jdbi().withHandle(h -> h.createQuery(
        "SELECT trace_context FROM runs WHERE id = :id").bind("id", runId).mapTo(String.class).one());
    assertThat(journaled).startsWith("00-" + runSpan.traceId() + "-" + runSpan.spanId() + "-");
  }

  @Test
  void with_trace_content_on_the_spans_carry_messages_arguments_and_results() {
    try (OtlpReceiver contentReceiver = OtlpReceiver.start();
        TestServer withContent = TestServer.start(tracingTo(contentReceiver, Map.of("ARYABHATTA_TRACE_CONTENT", "true")))) {
      AgentSetup contentSetup = new AgentSetup(withContent.admin, fake);
      String agent = contentSetup.agent(List.of("calculator", "current_time"), Map.of());
      enqueueTwoToolsThenDone();

      String runId = runAndWait(withContent, agent, "What is six times seven?").get("id").asText();

      List<ReceivedSpan> spans = awaitRunSpans(contentReceiver, runId, 6);
      ReceivedSpan firstChat = named(spans, "chat ").stream()
          .filter(s -> s.attribute("aryabhatta.step.index").equals(0L)).findFirst().orElseThrow();
      assertThat((String) firstChat.attribute("gen_ai.input.messages")).contains("What is six times seven?")
          .contains("You are a test agent.");
      assertThat((String) firstChat.attribute("gen_ai.output.messages")).contains("calculator").contains("6 * 7");
      ReceivedSpan lastChat = named(spans, "chat ").stream()
          .filter(s -> s.attribute("aryabhatta.step.index").equals(4L)).findFirst().orElseThrow();
      assertThat((String) lastChat.attribute("gen_ai.output.messages")).contains("done");
      ReceivedSpan calculator = named(spans, "execute_tool calculator").get(0);
      assertThat((String) calculator.attribute("gen_ai.tool.call.arguments")).contains("6 * 7");
      assertThat(calculator.attribute("gen_ai.tool.call.result")).isEqualTo("42");
      assertThat(textOf(spans)).doesNotContain(FakeModelServer.API_KEY);
    }
  }

  @Test
  void a_failing_model_call_marks_its_span_and_the_run_span_as_errors() {
    String agent = setup.agent(List.of("calculator"), Map.of());
    fake.enqueue(error(400));

    JsonNode run = runAndWait(server, agent, "Fail, please");
    assertThat(run.get("status").asText()).isEqualTo("failed");
    String code = run.at("/error/code").asText();
    assertThat(code).startsWith("model_");

    List<ReceivedSpan> spans = awaitRunSpans(receiver, run.get("id").asText(), 2);
    ReceivedSpan chat = named(spans, "chat ").get(0);
    assertThat(chat.status()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
    assertThat(chat.attribute("error.type")).isEqualTo(code.substring("model_".length()));
    ReceivedSpan runSpan = named(spans, "invoke_agent").get(0);
    assertThat(runSpan.status()).isEqualTo(StatusCode.STATUS_CODE_ERROR);
    assertThat(runSpan.attribute("error.type")).isEqualTo(code);
    // The provider's message may quote the request or a key: not without content on.
    assertThat(textOf(spans)).doesNotContain("fake error 400");
  }

  @Test
  void a_run_paused_on_one_node_and_approved_on_another_stays_one_trace() {
    String database = TestPostgres.freshDatabase();
    Map<String, String> env = tracingTo(receiver, Map.of("DB_CONNECTION_STRING", database));
    String runId;
    String toolCallId;
    try (TestServer first = TestServer.start(env)) {
      AgentSetup firstSetup = new AgentSetup(first.admin, fake);
      String agent = firstSetup.agent(List.of("calculator"), Map.of("tool_approval", "always"));
      fake.enqueue(toolCall("calculator", "{\"expression\":\"6 * 7\"}"), text("It is 42."));
      JsonNode run = runAndWait(first, agent, "What is six times seven?");
      assertThat(run.get("status").asText()).isEqualTo("requires_action");
      runId = run.get("id").asText();
      toolCallId = run.at("/required_action/tool_calls/0/id").asText();
    }
    // The first node has stopped (and sent its spans); another one, on the same database, resumes the run.
    try (TestServer second = TestServer.start(env)) {
      var r = second.admin.post("/api/runs/" + runId + "/approvals",
          Map.of("decisions", List.of(Map.of("tool_call_id", toolCallId, "approve", true))));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      JsonNode done = awaitSettled(second, runId);
      assertThat(done.get("status").asText()).isEqualTo("completed");

      List<ReceivedSpan> spans = awaitRunSpans(receiver, runId, 5);
      assertThat(spans).extracting(ReceivedSpan::traceId).containsOnly(spans.get(0).traceId());
      List<ReceivedSpan> executions = named(spans, "invoke_agent");
      assertThat(executions).hasSize(2);
      ReceivedSpan began = executions.stream().filter(ReceivedSpan::isRoot).findFirst().orElseThrow();
      ReceivedSpan resumed = executions.stream().filter(s -> !s.isRoot()).findFirst().orElseThrow();
      assertThat(began.events()).contains("run.requires_action");
      assertThat(resumed.parentSpanId()).isEqualTo(began.spanId());
      assertThat(resumed.attribute("aryabhatta.run.resumed")).isEqualTo(true);
      assertThat(named(spans, "chat ")).extracting(ReceivedSpan::parentSpanId)
          .containsExactlyInAnyOrder(began.spanId(), resumed.spanId());
      assertThat(named(spans, "execute_tool calculator")).singleElement()
          .satisfies(tool -> assertThat(tool.parentSpanId()).isEqualTo(resumed.spanId()));
    }
  }

  @Test
  void a_collector_that_is_down_never_breaks_a_run() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (TestServer unreachable = TestServer.start(Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closedPort, "OTEL_BSP_SCHEDULE_DELAY", "50",
        // Without the exporter's retries the failure comes at once, and the stop does not wait for them.
        "OTEL_JAVA_EXPORTER_OTLP_RETRY_DISABLED", "true"))) {
      AgentSetup unreachableSetup = new AgentSetup(unreachable.admin, fake);
      String agent = unreachableSetup.agent(List.of("calculator", "current_time"), Map.of());
      for (int i = 0; i < 2; i++) {
        enqueueTwoToolsThenDone();
        assertThat(runAndWait(unreachable, agent, "Hello").get("status").asText()).isEqualTo("completed");
        AgentSetup.sleep(200);
      }
    }
  }

  @Test
  void tracing_is_off_without_an_endpoint_or_when_the_sdk_is_disabled() {
    Map<String, String> base = new HashMap<>(TestServer.baseEnv());
    assertThat(RunTracing.start(ConfigLoader.fromMap(base).tracing())).isSameAs(RunTracer.OFF);

    base.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    base.put("OTEL_SDK_DISABLED", "true");
    assertThat(RunTracing.start(ConfigLoader.fromMap(base).tracing())).isSameAs(RunTracer.OFF);
  }
}
