package io.aryabhatta.knowledge;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An agent that answers from its knowledge base: the search is a journaled tool step, the answer's citations kept. */
class KnowledgeAgentTest {
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
  void an_agent_searches_its_knowledge_base_cites_a_passage_and_replays_exactly() throws Exception {
    String base = api.post("/api/knowledge_bases", Map.of("name", "handbook")).json().get("id").asText();
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "leave.md", "format", "markdown",
        "text", "# Time off\n\n## Vacation\n\nEmployees get 25 vacation days a year.\n\n## Sick leave\n\n"
            + "Sick leave needs a note after three days."));
    awaitReady(base);
    String chunk = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "vacation days"))
        .json().at("/data/0/chunk_id").asText();
    String agent = setup.agent(List.of("calculator"), Map.of("knowledge", List.of("handbook")));
    assertThat(api.get("/api/agents/" + agent).json().get("knowledge").toString()).isEqualTo("[\"handbook\"]");

    fake.enqueue(toolCall("search_knowledge", "{\"query\":\"vacation days per year\"}"),
        text("Employees get 25 vacation days a year [chunk:" + chunk + "]."));
    JsonNode run = api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "How much vacation?"))
        .json();
    assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");

    // Offered beside the agent's own tools, scoped to its knowledge bases.
    JsonNode firstRequest = fake.requests().get(fake.requests().size() - 2).body();
    assertThat(firstRequest.get("tools").toString()).contains("calculator").contains("search_knowledge")
        .contains("\"enum\":[\"handbook\"]");
    // The search is a journaled step: its query, and the passages found with ids and scores.
    JsonNode steps = api.get("/api/runs/" + run.get("id").asText() + "/steps").json().get("data");
    JsonNode search = steps.get(1);
    assertThat(search.get("name").asText()).isEqualTo("search_knowledge");
    assertThat(search.get("arguments").toString()).contains("vacation days per year");
    JsonNode result = Http.JSON.readTree(search.get("result").asText()).at("/results/0");
    assertThat(result.get("citation").asText()).isEqualTo("chunk:" + chunk);
    assertThat(result.get("document").asText()).isEqualTo("leave.md");
    assertThat(result.get("heading_path").toString()).contains("Vacation");
    assertThat(result.get("score").asDouble()).isPositive();
    assertThat(fake.lastRequest().messages().toString()).contains("25 vacation days");

    // The answer's citations, as the journal recorded the passage, and the chunk they link to.
    JsonNode citations = api.get("/api/runs/" + run.get("id").asText() + "/citations").json().get("data");
    assertThat(citations).hasSize(1);
    assertThat(citations.get(0).get("chunk_id").asText()).isEqualTo(chunk);
    assertThat(citations.get(0).get("document").asText()).isEqualTo("leave.md");
    assertThat(api.get("/api/knowledge_chunks/" + chunk).json().get("text").asText()).contains("25 vacation days");

    // Replayed against today's agent, the search step is the same decision.
    JsonNode replay = api.post("/api/runs/" + run.get("id").asText() + "/replay", Map.of()).json();
    assertThat(replay.get("deterministic").asBoolean()).as(replay.toString()).isTrue();
  }

  @Test
  void an_agent_lists_only_knowledge_bases_of_its_workspace() {
    var r = api.post("/api/agents", Map.of("name", "kb-unknown", "system_prompt", "x",
        "model", Map.of("provider", "fake", "name", FakeModelServer.MODEL), "knowledge", List.of("nope")));
    assertThat(r.status()).as(r.toString()).isEqualTo(422);
    assertThat(r.json().toString()).contains("knowledge[0]");
  }

  private static void awaitReady(String base) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!api.get("/api/knowledge_bases/" + base + "/documents").json().at("/data/0/status").asText()
        .equals("ready")) {
      assertThat(System.nanoTime()).as("indexed in time").isLessThan(deadline);
      AgentSetup.sleep(50);
    }
  }
}
