package io.aryabhatta.embed;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.StepStatus;
import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.aryabhatta.agents.AgentInput;
import io.aryabhatta.agents.ModelSettings;

import io.aryabhatta.json.Json;
import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunService.Decision;
import io.aryabhatta.runs.RunService.ToolOutput;
import io.aryabhatta.runs.Step;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.tools.ToolInput;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** An application embedding the engine: its own DataSource, Java function tools, no HTTP server. */
class EmbeddedEngineTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String ORDER_SCHEMA = """
      {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"],
       "additionalProperties": false}""";

  record OrderLookup(JsonNode arguments, String idempotencyKey, String workspaceId) {}

  record Refund(String orderId, int amountCents) {}

  static final List<OrderLookup> lookups = new CopyOnWriteArrayList<>();
  static final List<Refund> refunds = new CopyOnWriteArrayList<>();
  static final List<String> shipments = new CopyOnWriteArrayList<>();
  static final String SECRET_KEY = randomKey();
  static FakeModelServer fake;
  static PGSimpleDataSource dataSource;
  static Aryabhatta engine;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    dataSource = new PGSimpleDataSource();
    dataSource.setURL(TestPostgres.freshDatabase());
    dataSource.setUser("postgres");
    engine = Aryabhatta.builder()
        .dataSource(dataSource)
        .secretKey(SECRET_KEY)
        .leaseSeconds(10)
        .maxConcurrentRuns(4)
        .tool(JavaTool.of("lookup_order", "Look up an order by its id", ORDER_SCHEMA, (args, call) -> {
          lookups.add(new OrderLookup(args, call.idempotencyKey(), call.workspaceId()));
          return "{\"order_id\": \"" + args.get("order_id").asText() + "\", \"status\": \"shipped\"}";
        }).idempotent(true))
        .tool(JavaTool.of("charge_card", "Charge the customer's card", ORDER_SCHEMA, args -> {
          throw new IllegalStateException("card gateway down at 10.0.0.7 with token tok_live_123");
        }))
        .tool(JavaTool.of("ship_parcel", "Hand a parcel to the carrier (hangs)", ORDER_SCHEMA, (args, call) -> {
          shipments.add(call.idempotencyKey());
          Thread.sleep(Duration.ofSeconds(30));
          return "shipped";
        }).timeout(Duration.ofMillis(500)))
        .tool(JavaTool.typed("refund", "Refund part of an order", """
            {"type": "object",
             "properties": {"order_id": {"type": "string"}, "amount_cents": {"type": "integer", "minimum": 1}},
             "required": ["order_id", "amount_cents"]}""", Refund.class, (refund, call) -> {
          if (refund.amountCents() > 10_000) {
            throw new ToolError("refunds above 100.00 need a manager; offer 100.00 at most");
          }
          refunds.add(refund);
          return Map.of("refunded_cents", refund.amountCents(), "order_id", refund.orderId());
        }).requiresApproval(true))
        .build();
    engine.putSecret("FAKE_KEY", FakeModelServer.API_KEY);
    engine.createProvider("fake", fake.baseUrl(), "FAKE_KEY");
  }

  @AfterAll
  static void stop() {
    engine.close();
    fake.close();
  }

  @Test
  void a_java_tool_that_hangs_past_its_timeout_leaves_the_run_waiting_for_a_person_not_holding_its_lease()
      throws Exception {
    String agent = agent("shipping", List.of("ship_parcel"), null);
    fake.enqueue(toolCall("ship_parcel", "{\"order_id\": \"A-7\"}"), text("Shipping was settled by hand."));

    RunHandle run = engine.run(agent, "Ship order A-7");
    Run waiting = run.await(WAIT);

    // The function did not return: it may have handed the parcel over, so nobody runs it again.
    assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(waiting.requiredAction().get("type").asText()).isEqualTo("resolve_unknown_outcome");
    Step step = run.steps().get(1);
    assertThat(step.status()).isEqualTo(StepStatus.UNKNOWN_OUTCOME);
    assertThat(step.error()).contains("did not return within 500 ms");
    assertThat(shipments).containsExactly(step.idempotencyKey());

    run.submitToolOutputs(List.of(new ToolOutput(step.toolCallId(), TextNode.valueOf("handed over"))));
    assertThat(run.await(WAIT).output()).isEqualTo("Shipping was settled by hand.");
    assertThat(shipments).hasSize(1);
  }

  @Test
  void a_java_tool_is_called_once_with_its_arguments_and_idempotency_key_and_the_run_completes() throws Exception {
    String agent = agent("orders", List.of("lookup_order"), null);
    fake.enqueue(toolCall("lookup_order", "{\"order_id\": \"A-1001\"}"), text("Order A-1001 has shipped."));
    int before = lookups.size();

    RunHandle run = engine.run(agent, "Where is order A-1001?");
    List<RunEvent> events = new CopyOnWriteArrayList<>();
    try (EventSubscription subscription = run.events(0, events::add)) {
      Run finished = run.await(WAIT);

      assertThat(finished.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(finished.output()).isEqualTo("Order A-1001 has shipped.");
      assertThat(subscription.awaitEnd(WAIT)).isTrue();
    }

    List<Step> steps = run.steps();
    assertThat(steps).extracting(Step::type).containsExactly("llm_call", "tool_call", "llm_call");
    Step toolStep = steps.get(1);
    assertThat(toolStep.status()).isEqualTo(StepStatus.COMPLETED);
    assertThat(toolStep.result()).contains("\"status\": \"shipped\"");
    assertThat(lookups.subList(before, lookups.size())).singleElement().satisfies(call -> {
      assertThat(call.arguments().get("order_id").asText()).isEqualTo("A-1001");
      assertThat(call.idempotencyKey()).isNotBlank().isEqualTo(toolStep.idempotencyKey());
      assertThat(call.workspaceId()).isEqualTo("default");
    });
    assertThat(fake.lastRequest().lastMessageContent()).contains("shipped");
    assertThat(run.messages()).extracting(Message::role).containsExactly("user", "assistant", "tool", "assistant");

    assertThat(events).extracting(RunEvent::type).containsSubsequence("run.created", "run.running",
        "llm_call.started", "tool_call.created", "tool_call.completed", "llm_call.completed", "run.completed");
    assertThat(events.getLast().type()).isEqualTo("run.completed");
    assertThat(events).extracting(RunEvent::id).isSorted().doesNotHaveDuplicates().startsWith(1L);
  }

  @Test
  void a_java_tool_that_throws_is_a_tool_error_for_the_model_and_the_run_completes() throws Exception {
    String agent = agent("payments", List.of("charge_card"), null);
    fake.enqueue(toolCall("charge_card", "{\"order_id\": \"A-1002\"}"), text("Sorry, payment failed."));

    Run finished = engine.run(agent, "Charge order A-1002").await(WAIT);

    assertThat(finished.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(finished.output()).isEqualTo("Sorry, payment failed.");
    String toolMessage = fake.lastRequest().lastMessageContent();
    assertThat(toolMessage).startsWith("Error: ").contains("the tool failed (IllegalStateException)");
    assertThat(toolMessage).doesNotContain("tok_live_123").doesNotContain("10.0.0.7");
    Step toolStep = engine.attach(finished.id()).steps().get(1);
    assertThat(toolStep.status()).isEqualTo(StepStatus.FAILED);
  }

  @Test
  void a_typed_java_tool_waits_for_approval_and_its_tool_error_message_reaches_the_model() throws Exception {
    String agent = agent("refunds", List.of("refund"), "per_tool");
    fake.enqueue(toolCall("refund", "{\"order_id\": \"A-1003\", \"amount_cents\": 25000}"),
        toolCall("refund", "{\"order_id\": \"A-1003\", \"amount_cents\": 10000}"),
        text("Refunded 100.00."));

    RunHandle run = engine.run(agent, "Refund 250.00 on A-1003");
    Run waiting = run.await(WAIT);
    assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    run.approve(List.of(new Decision(toolCallId(waiting), true, "ok")));

    waiting = run.await(WAIT);
    assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(fake.lastRequest().lastMessageContent())
        .isEqualTo("Error: refunds above 100.00 need a manager; offer 100.00 at most");
    assertThat(refunds).isEmpty();
    run.approve(List.of(new Decision(toolCallId(waiting), true, null)));

    Run finished = run.await(WAIT);
    assertThat(finished.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(refunds).containsExactly(new Refund("A-1003", 10_000));
    assertThat(fake.lastRequest().lastMessageContent()).contains("\"refunded_cents\":10000");
  }

  @Test
  void invalid_arguments_never_reach_the_function() throws Exception {
    String agent = agent("strict", List.of("lookup_order"), null);
    fake.enqueue(toolCall("lookup_order", "{\"order\": 7}"), text("I need an order id."));
    int before = lookups.size();

    Run finished = engine.run(agent, "Where is my order?").await(WAIT);

    assertThat(finished.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(lookups).hasSize(before);
    assertThat(fake.lastRequest().lastMessageContent()).contains("invalid arguments for 'lookup_order'");
  }

  @Test
  void a_client_tool_is_answered_from_java_and_the_conversation_continues() throws Exception {
    engine.createTool(new ToolInput("ask_customer", "client", "Ask the customer a question",
        Json.mapper().readTree("{\"type\": \"object\", \"properties\": {\"question\": {\"type\": \"string\"}}}"),
        null, null, null));
    String agent = agent("asking", List.of("ask_customer"), null);
    fake.enqueue(toolCall("ask_customer", "{\"question\": \"Which order?\"}"), text("Thanks, A-1004 it is."),
        text("You are welcome."));

    RunHandle run = engine.run(agent, "Help me with my order");
    Run waiting = run.await(WAIT);
    assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(waiting.requiredAction().get("type").asText()).isEqualTo("submit_tool_outputs");
    run.submitToolOutputs(List.of(new ToolOutput(toolCallId(waiting), TextNode.valueOf("A-1004"))));
    assertThat(run.await(WAIT).output()).isEqualTo("Thanks, A-1004 it is.");

    RunHandle next = engine.continueConversation(run.conversationId(), "Thank you");
    assertThat(next.await(WAIT).output()).isEqualTo("You are welcome.");
    assertThat(next.messages()).extracting(Message::content).contains("A-1004", "Thank you");
  }

  @Test
  void a_run_waiting_for_approval_can_be_cancelled_and_its_tool_never_runs() throws Exception {
    String agent = agent("careful", List.of("lookup_order"), "always");
    fake.enqueue(toolCall("lookup_order", "{\"order_id\": \"A-1005\"}"));
    int before = lookups.size();

    RunHandle run = engine.run(agent, "Where is A-1005?");
    assertThat(run.await(WAIT).status()).isEqualTo(RunStatus.REQUIRES_ACTION);
    run.cancel();

    assertThat(run.await(WAIT).status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(lookups).hasSize(before);
  }

  @Test
  void events_can_be_read_with_a_blocking_iterator_and_resumed_after_an_id() throws Exception {
    String agent = agent("iterating", List.of(), null);
    fake.enqueue(text("Hello."));
    RunHandle run = engine.run(agent, "Hi");

    List<RunEvent> all = new ArrayList<>();
    try (RunEvents events = run.events(0)) {
      events.forEachRemaining(all::add);
    }
    assertThat(all.getLast().type()).isEqualTo("run.completed");
    assertThat(all.getLast().data().get("output").asText()).isEqualTo("Hello.");

    try (RunEvents rest = run.events(all.get(1).id())) {
      List<RunEvent> tail = new ArrayList<>();
      rest.forEachRemaining(tail::add);
      assertThat(tail).containsExactlyElementsOf(all.subList(2, all.size()));
    }
    try (RunEvents nothing = run.events(all.getLast().id())) {
      assertThat(nothing.hasNext()).isFalse();
    }
  }

  @Test
  void java_tools_are_read_only_builtins_of_every_workspace() {
    assertThat(engine.tool("builtin:lookup_order").kind()).isEqualTo("builtin");
    assertThat(engine.tool("builtin:lookup_order").idempotent()).isTrue();
    assertThat(engine.tool("builtin:charge_card").idempotent()).isFalse();
    Aryabhatta other = engine.inWorkspace(engine.createWorkspace("shop-two").id());
    assertThat(other.tool("builtin:refund").requiresApproval()).isTrue();
    assertThatThrownBy(() -> engine.inWorkspace("no-such-workspace")).isInstanceOf(DomainException.NotFound.class);
  }

  @Test
  void a_java_tool_cannot_take_the_name_of_a_shipped_builtin() {
    var builder = Aryabhatta.builder().dataSource(dataSource).secretKey(SECRET_KEY)
        .tool(JavaTool.of("calculator", "mine", "{\"type\": \"object\"}", args -> "1"));
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("calculator");
  }

  @Test
  void a_secret_key_that_is_not_32_base64_bytes_is_refused_without_echoing_it() {
    var builder = Aryabhatta.builder().dataSource(dataSource).secretKey("c2hvcnQta2V5");
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("c2hvcnQta2V5");
  }

  private static String agent(String name, List<String> tools, String toolApproval) {
    return engine.createAgent(new AgentInput(name, null, "You are a shop assistant.",
        new ModelSettings("fake", FakeModelServer.MODEL, null, null, null, null), tools, toolApproval, null, null))
        .id();
  }

  private static String toolCallId(Run waiting) {
    return waiting.requiredAction().at("/tool_calls/0/id").asText();
  }

  private static String randomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }
}
