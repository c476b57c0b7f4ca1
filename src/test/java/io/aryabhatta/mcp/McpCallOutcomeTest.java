package io.aryabhatta.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.NodeMcpServer;
import io.aryabhatta.tools.AddressGuard;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Whether a failed {@code tools/call} may have reached the MCP server, against real servers on
 * loopback: a failure to connect or to set the session up is a plain failure; a timeout or a
 * broken connection once the call was sent leaves its outcome unknown.
 */
class McpCallOutcomeTest {
  private static final McpConnector connector = new McpConnector(new AddressGuard(List.of("127.0.0.1")));
  private static Path tools;
  private static NodeMcpServer probe;

  @BeforeAll
  static void start() throws IOException {
    Assumptions.assumeTrue(NodeMcpServer.nodeAvailable(), "node is not installed");
    tools = Files.createTempFile("mcp-tools-", ".json");
    Files.writeString(tools, Http.JSON.writeValueAsString(List.of(tool("hang"), tool("exit"), tool("reject"),
        tool("fail"))));
    probe = NodeMcpServer.probe(tools);
  }

  @AfterAll
  static void stop() {
    if (probe != null) {
      probe.close();
    }
  }

  @Test
  void a_call_the_server_never_answers_has_an_unknown_outcome_after_the_timeout() {
    long started = System.nanoTime();
    McpFailure failure = callFailing(probe.url(), "hang", Duration.ofMillis(1500));
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;

    assertThat(failure.outcomeUnknown()).as(failure.getMessage()).isTrue();
    assertThat(failure.kind()).isEqualTo(McpFailure.Kind.TIMEOUT);
    assertThat(failure.getMessage()).isEqualTo(
        "outcome unknown: the call may have reached MCP server 'probe' (it did not answer within 1500 ms)");
    assertThat(elapsedMs).isBetween(1_400L, 10_000L);
  }

  @Test
  void a_server_that_dies_during_the_call_leaves_its_outcome_unknown() {
    try (NodeMcpServer dying = NodeMcpServer.probe(tools)) {
      McpFailure failure = callFailing(dying.url(), "exit", Duration.ofSeconds(10));

      assertThat(failure.outcomeUnknown()).as(failure.getMessage()).isTrue();
      assertThat(failure.getMessage()).startsWith("outcome unknown: the call may have reached MCP server 'probe' (");
    }
  }

  @Test
  void a_json_rpc_error_is_the_servers_answer_and_not_an_unknown_outcome() {
    McpFailure failure = callFailing(probe.url(), "reject", Duration.ofSeconds(10));

    assertThat(failure.outcomeUnknown()).isFalse();
    assertThat(failure.kind()).isEqualTo(McpFailure.Kind.ERROR);
    assertThat(failure.getMessage()).contains("rejected on purpose: hi");
  }

  @Test
  void an_is_error_result_is_the_tools_own_answer() throws McpFailure {
    CallToolResult result = connector.callTool(endpoint(probe.url(), Duration.ofSeconds(10)), "fail",
        Map.of("text", "boom"), "key-1");

    assertThat(result.isError()).isTrue();
  }

  @Test
  void a_refused_connection_is_a_plain_failure() {
    McpFailure failure = callFailing("http://127.0.0.1:" + NodeMcpServer.freePort() + "/mcp", "hang",
        Duration.ofSeconds(5));

    assertThat(failure.outcomeUnknown()).isFalse();
    assertThat(failure.kind()).isEqualTo(McpFailure.Kind.UNREACHABLE);
    assertThat(failure.getMessage()).startsWith("could not connect to MCP server 'probe'");
  }

  @Test
  void a_server_that_never_answers_the_handshake_is_a_plain_failure() throws IOException {
    // Connections complete in the kernel's accept queue, so the initialize request is sent and
    // never read: the session is never set up, and the tools/call never leaves.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      McpFailure failure = callFailing("http://127.0.0.1:" + silent.getLocalPort() + "/mcp", "hang",
          Duration.ofMillis(800));

      assertThat(failure.outcomeUnknown()).as(failure.getMessage()).isFalse();
      assertThat(failure.kind()).isEqualTo(McpFailure.Kind.TIMEOUT);
      assertThat(failure.getMessage()).isEqualTo("MCP server 'probe' did not answer within 800 ms");
    }
  }

  private static McpFailure callFailing(String url, String tool, Duration timeout) {
    return catchThrowableOfType(McpFailure.class,
        () -> connector.callTool(endpoint(url, timeout), tool, Map.of("text", "hi"), "key-1"));
  }

  private static McpEndpoint endpoint(String url, Duration timeout) {
    return new McpEndpoint("probe", url, Map.of(), timeout);
  }

  private static Map<String, String> tool(String behaviour) {
    return Map.of("name", behaviour, "behaviour", behaviour, "description", behaviour);
  }
}
