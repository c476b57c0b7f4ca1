package io.aryabhatta.playground;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
  static final String ANSWER = "Order 42 has shipped and arrives on Friday.";
  static final String FOLLOW_UP = "You're welcome, Ada.";

  @Test
  void a_user_builds_an_agent_with_a_tool_chats_and_approves_the_call() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed at " + CHROMIUM);
    Optional<Path> node = onPath("node");
    assumeTrue(node.isPresent(), "node is not on the PATH");
    assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core")),
        "run 'npm ci' in " + SCRIPT_DIR + " first");

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

      Path screenshots = Path.of("target/playground-screenshots");
      Files.createDirectories(screenshots);
      Path log = Path.of("target/playground-browser.log");
      ProcessBuilder builder = new ProcessBuilder(node.get().toString(), "playground.test.mjs")
          .directory(SCRIPT_DIR.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile()); // a file, so a chatty browser never blocks on a full pipe
      builder.environment().putAll(Map.of(
          "BASE_URL", server.baseUrl(),
          "API_KEY", TestServer.ADMIN_KEY,
          "TOOL_URL", target.url("/orders/{order_id}"),
          "MODEL", FakeModelServer.MODEL,
          "ANSWER", ANSWER,
          "FOLLOW_UP", FOLLOW_UP,
          "CLIENT_TOOL_AGENT", clientToolAgent,
          "CHROMIUM", CHROMIUM.toString(),
          "SCREENSHOTS", screenshots.toAbsolutePath().toString()));
      Process process = builder.start();
      boolean finished = process.waitFor(180, TimeUnit.SECONDS);
      if (!finished) {
        process.destroyForcibly();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      System.out.println(output);

      assertThat(finished).as("the browser script finished in time:\n" + output).isTrue();
      assertThat(process.exitValue()).as(output).isZero();
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
