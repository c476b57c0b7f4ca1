package io.aryabhatta.runtime;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MixedRetryOutcomeTest {
  static FakeModelServer fake;
  static TestServer server;
  static Http api;
  static AgentSetup setup;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start(Map.of("ARYABHATTA_HTTP_TOOL_ALLOWLIST", "127.0.0.1", "ARYABHATTA_TOOL_MAX_ATTEMPTS", "3"));
    api = server.admin;
    setup = new AgentSetup(api, fake);
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void an_idempotent_call_answered_504_then_503_until_its_retries_run_out_has_an_unknown_outcome() throws Exception {
    AtomicInteger n = new AtomicInteger();
    HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    target.createContext("/", ex -> {
      ex.getRequestBody().readAllBytes();
      int status = n.incrementAndGet() == 1 ? 504 : 503;
      byte[] b = "{}".getBytes();
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    target.start();
    try {
      setup.httpTool("charge", "POST", "http://127.0.0.1:" + target.getAddress().getPort() + "/charge",
          Map.of("idempotent", true));
      String agent = setup.agent(List.of("charge"), Map.of());
      fake.enqueue(toolCall("charge", "{\"q\":\"x\"}"), text("done"));
      var r = api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "go"));
      JsonNode run = r.json();
      JsonNode step = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data").get(1);
      assertThat(step.get("status").asText()).isEqualTo("unknown_outcome");
    } finally {
      target.stop(0);
    }
  }
}
