package io.aryabhatta.playground;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.ToolTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The playground in a real browser: headless Chromium, driven by {@code src/test/browser/playground.test.mjs}
 * (playwright-core), against the real server and a scripted model. Skipped where Chromium, Node or
 * the script's {@code npm ci} are missing; {@code .ci/run} installs them.
 */
class PlaygroundBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path SCRIPT_DIR = Path.of("src/test/browser");
  static final Path SCREENSHOTS = Path.of("target/playground-screenshots");
  static final String PASSAGE = "Employees get 25 vacation days a year.";
  static final String ANSWER = "Order 42 has shipped and arrives on Friday.";
  static final String FOLLOW_UP = "You're welcome, Ada.";
  static final String SYSTEM_PROMPT = "You help with orders.";
  static final String FORK_INSTRUCTION = "Answer in French.";
  static final String FORK_ANSWER = "La commande 42 est expédiée.";
  static final String SHIPPED = "Order 42 has shipped.";
  static final String HELPER_PROMPT = "You are the helper.";
  static final String CAREFUL_PROMPT = "You check orders, with approval.";
  static final String LEAD_PROMPT = "You delegate.";

  @Test
  void a_user_builds_an_agent_with_a_tool_chats_and_approves_the_call() throws Exception {
    assumeBrowser();

    try (FakeModelServer fake = FakeModelServer.start();
        ToolTarget target = ToolTarget.start();
        TestServer server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"))) {
      AgentSetup setup = new AgentSetup(server.admin, fake); // the provider "fake", pointing at the scripted model
      setup.clientTool("ask_user");
      String clientToolAgent = setup.agent(List.of("ask_user"), Map.of());
      // A number with more digits than a JavaScript number holds: the page must show it as sent.
      target.answer(200, "{\"order_id\":\"42\",\"status\":\"shipped\",\"eta\":\"Friday\","
          + "\"share\":0.3333333333333333333333333333333333}");
      fake.enqueue(toolCall("lookup_order", "{\"order_id\":\"42\"}"),
          text(ANSWER).withChunkDelay(Duration.ofMillis(60)), text(FOLLOW_UP),
          toolCall("ask_user", "{\"question\":\"Which color?\"}"), text("Blue it is."));

      String output = runScript("playground.test.mjs", "target/playground-browser.log", Map.of(
          "TOOL_URL", target.url("/orders/{order_id}"),
          "MODEL", FakeModelServer.MODEL,
          "ANSWER", ANSWER,
          "FOLLOW_UP", FOLLOW_UP,
          "CLIENT_TOOL_AGENT", clientToolAgent), server);
      assertThat(output).contains("playground: all checks passed");
      // The test button and the approved call in the chat each reached the tool's endpoint once.
      assertThat(target.calls()).extracting(ToolTarget.Call::path).containsExactly("/orders/42", "/orders/42");
      assertThat(fake.requests()).hasSize(5);
      // The follow-up went to the same conversation: the model saw the whole exchange.
      assertThat(fake.requests().get(2).body().path("messages").toString()).contains("Where is order 42?", "Thanks!");
      // The client tool's output typed into the page reached the model.
      assertThat(fake.lastRequest().body().path("messages").toString()).contains("Blue");
      assertThat(server.admin.get("/api/conversations").json().get("data")).hasSize(2);
    }
  }

  @Test
  void a_user_inspects_a_run_forks_it_evaluates_the_agent_and_settles_an_unknown_outcome() throws Exception {
    assumeBrowser();
    try (FakeModelServer fake = FakeModelServer.start();
        ToolTarget orders = ToolTarget.start();
        ToolTarget payments = ToolTarget.start().answer(502, "{\"error\":\"bad gateway\"}");
        TestServer server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1"))) {
      AgentSetup setup = new AgentSetup(server.admin, fake);
      // More digits than a JavaScript number holds: the inspector must show them as the tool answered.
      orders.answer(200, "{\"order_id\":\"42\",\"status\":\"shipped\",\"share\":0.3333333333333333333333333333333333}");
      setup.httpTool("lookup_order", "GET", orders.url("/orders/{q}"), Map.of("idempotent", true));
      // Not idempotent, and answering 502: the call may have charged, so its outcome is unknown.
      setup.httpTool("charge", "POST", payments.url("/charge"), Map.of("idempotent", false));
      String orderBot = setup.agent(List.of("lookup_order"), Map.of("name", "inspect-bot", "system_prompt", SYSTEM_PROMPT));
      String chargeBot = setup.agent(List.of("charge"), Map.of("name", "charge-bot"));
      // A parent calling an agent, and one whose child waits for an approval.
      String helper = "inspect-helper";
      setup.agent(List.of(), Map.of("name", helper, "system_prompt", HELPER_PROMPT));
      String careful = "inspect-careful";
      setup.agent(List.of("lookup_order"), Map.of("name", careful, "system_prompt", CAREFUL_PROMPT,
          "tool_approval", "always"));
      String lead = setup.agent(List.of(), Map.of("name", "inspect-lead", "system_prompt", LEAD_PROMPT,
          "agents", List.of(helper, careful)));
      fake.respondWith(PlaygroundBrowserTest::scriptedModel);

      String parentRun = startRun(server, lead, "delegate to " + helper);
      assertThat(setup.awaitSettled(parentRun).get("status").asText()).isEqualTo("completed");
      String childRun = server.admin.get("/api/runs/" + parentRun + "/children").json().at("/data/0/id").asText();
      String waitingParent = startRun(server, lead, "delegate to " + careful);
      assertThat(setup.awaitStatus(waitingParent, "requires_action").at("/required_action/type").asText())
          .isEqualTo("child_requires_action");

      String runId = startRun(server, orderBot, "Where is order 42?");
      assertThat(setup.awaitSettled(runId).get("status").asText()).isEqualTo("completed");
      String idempotencyKey = server.admin.get("/api/runs/" + runId + "/steps").json()
          .at("/data/1/idempotency_key").asText();
      String unknownRun = startRun(server, chargeBot, "charge order 7");
      assertThat(setup.awaitSettled(unknownRun).at("/required_action/type").asText()).isEqualTo("resolve_unknown_outcome");

      String output = runScript("inspector.test.mjs", "target/playground-browser-inspector.log", Map.ofEntries(
          Map.entry("RUN_ID", runId),
          Map.entry("IDEMPOTENCY_KEY", idempotencyKey),
          Map.entry("ORDER_AGENT", orderBot),
          Map.entry("UNKNOWN_RUN", unknownRun),
          Map.entry("SYSTEM_PROMPT", SYSTEM_PROMPT),
          Map.entry("FORK_INSTRUCTION", FORK_INSTRUCTION),
          Map.entry("FORK_ANSWER", FORK_ANSWER),
          Map.entry("ANSWER", SHIPPED),
          Map.entry("PARENT_RUN", parentRun),
          Map.entry("CHILD_RUN", childRun),
          Map.entry("WAITING_PARENT", waitingParent)), server);

      assertThat(output).contains("inspector: all checks passed");
      // Approved on the child's page: the child went on, and so did its parent.
      assertThat(setup.awaitStatus(waitingParent, "completed").get("output").asText()).isEqualTo(SHIPPED);
      // The fork asked the model again with the edited prompt; the agent itself was not changed.
      assertThat(fake.requests()).anySatisfy(r -> {
        assertThat(r.messages().path(0).path("content").asText()).isEqualTo(SYSTEM_PROMPT + " " + FORK_INSTRUCTION);
        assertThat(r.body().path("temperature").asDouble()).isEqualTo(0.2);
      });
      assertThat(server.admin.get("/api/agents/" + orderBot).json().get("version").asInt()).isEqualTo(1);
      // Settled with a result: the charge was not executed again, and the model read the given result.
      assertThat(payments.calls()).hasSize(1);
      JsonNode settled = server.admin.get("/api/runs/" + unknownRun).json();
      assertThat(settled.get("status").asText()).isEqualTo("completed");
      assertThat(settled.get("output").asText()).contains("{\"charged\": true}");
      JsonNode reports = server.admin.get("/api/agents/" + orderBot + "/evaluations").json().get("data");
      assertThat(reports).hasSize(1);
      assertThat(reports.get(0).get("passed").asInt()).isEqualTo(1);
      assertThat(reports.get(0).get("failed").asInt()).isEqualTo(1);
      copyScreenshotsToDocs("inspector", "fork-compare", "evaluations");
    }
  }

  /**
   * The model of the inspector test, answering by what it is sent: a tool's result is summed up, the
   * forked prompt is answered in French, and a first message asks for the agent's tool.
   */
  private static FakeModelServer.Reply scriptedModel(FakeModelServer.ReceivedRequest request) {
    JsonNode messages = request.messages();
    JsonNode last = messages.path(messages.size() - 1);
    String system = messages.path(0).path("content").asText();
    if (system.equals(HELPER_PROMPT)) {
      return text("The helper did it.");
    }
    if (system.equals(LEAD_PROMPT) && last.path("role").asText().equals("user")) {
      String agent = last.path("content").asText().replace("delegate to ", "");
      return toolCall(agent, "{\"input\":\"Where is order 42?\"}");
    }
    if (last.path("role").asText().equals("tool")) {
      String result = last.path("content").asText();
      return text(result.contains("shipped") ? SHIPPED : "Noted: " + result);
    }
    if (messages.path(0).path("content").asText().contains(FORK_INSTRUCTION)) {
      return text(FORK_ANSWER);
    }
    return last.path("content").asText().contains("charge")
        ? toolCall("charge", "{\"q\":\"order-7\"}")
        : toolCall("lookup_order", "{\"q\":\"42\"}");
  }

  private static String startRun(TestServer server, String agentId, String input) {
    var response = server.admin.post("/api/agents/" + agentId + "/runs", Map.of("input", input));
    assertThat(response.status()).as(response.toString()).isEqualTo(201);
    return response.json().get("id").asText();
  }

  /**
   * The screenshots the docs show are the ones this test took, so they show the page as it is. Run
   * with -Dplayground.screenshots.update=true to copy them into docs/screenshots.
   */
  private static void copyScreenshotsToDocs(String... names) throws IOException {
    if (!Boolean.getBoolean("playground.screenshots.update")) {
      return;
    }
    for (String name : names) {
      Files.copy(SCREENSHOTS.resolve(name + ".png"), Path.of("docs/screenshots", name + ".png"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void an_answer_from_a_knowledge_base_shows_its_sources_as_links_to_the_passages() throws Exception {
    assumeBrowser();
    try (FakeModelServer fake = FakeModelServer.start(); TestServer server = TestServer.start()) {
      AgentSetup setup = new AgentSetup(server.admin, fake);
      String base = server.admin.post("/api/knowledge_bases", Map.of("name", "handbook")).json().get("id").asText();
      server.admin.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "leave.md", "format",
          "markdown", "text", "# Time off\n\n## Vacation\n\n" + PASSAGE));
      String chunk = null;
      for (int i = 0; i < 300 && chunk == null; i++) {
        var hits = server.admin.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "vacation days"))
            .json().get("data");
        chunk = hits != null && hits.size() > 0 ? hits.get(0).get("chunk_id").asText() : null;
        if (chunk == null) {
          AgentSetup.sleep(50);
        }
      }
      assertThat(chunk).as("the document was indexed").isNotNull();
      String agent = setup.agent(List.of(), Map.of("knowledge", List.of("handbook")));
      fake.enqueue(toolCall("search_knowledge", "{\"query\":\"vacation days\"}"),
          text("You get 25 vacation days [chunk:" + chunk + "]."));
      var run = server.admin.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "How much vacation?"))
          .json();
      assertThat(run.get("status").asText()).isEqualTo("completed");

      String output = runScript("citations.test.mjs", "target/playground-browser-citations.log", Map.of(
          "RUN_ID", run.get("id").asText(),
          "CONVERSATION_ID", run.get("conversation_id").asText(),
          "PASSAGE", PASSAGE), server);

      assertThat(output).contains("citations: all checks passed");
    }
  }

  private static void assumeBrowser() throws IOException {
    assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed at " + CHROMIUM);
    assumeTrue(onPath("node").isPresent(), "node is not on the PATH");
    assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core")),
        "run 'npm ci' in " + SCRIPT_DIR + " first");
  }

  /** Runs a browser script against the server; returns what it printed, and fails unless it exited 0 in time. */
  private static String runScript(String script, String logFile, Map<String, String> settings, TestServer server)
      throws IOException, InterruptedException {
    Files.createDirectories(SCREENSHOTS);
    Path log = Path.of(logFile);
    ProcessBuilder builder = new ProcessBuilder(onPath("node").orElseThrow().toString(), script)
        .directory(SCRIPT_DIR.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile()); // a file, so a chatty browser never blocks on a full pipe
    builder.environment().putAll(Map.of(
        "BASE_URL", server.baseUrl(),
        "API_KEY", TestServer.ADMIN_KEY,
        "CHROMIUM", CHROMIUM.toString(),
        "SCREENSHOTS", SCREENSHOTS.toAbsolutePath().toString()));
    builder.environment().putAll(settings);
    Process process = builder.start();
    boolean finished = process.waitFor(180, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(output);
    assertThat(finished).as("the browser script finished in time:\n" + output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    return output;
  }

  private static Optional<Path> onPath(String program) throws IOException {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Arrays.stream(path.split(java.io.File.pathSeparator))
        .map(dir -> Path.of(dir, program))
        .filter(Files::isExecutable)
        .findFirst();
  }
}
