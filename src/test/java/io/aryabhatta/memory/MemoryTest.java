package io.aryabhatta.memory;

import static io.aryabhatta.testing.FakeModelServer.text;
import static io.aryabhatta.testing.FakeModelServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Long-term memory: blocks per agent and memory key, in the system prompt, changed by journaled tool calls. */
class MemoryTest {
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
  void an_agent_remembers_a_user_across_conversations_and_another_key_never_sees_it() throws Exception {
    String agent = setup.agent(List.of(), Map.of("memory_blocks", List.of(Map.of("label", "human", "limit", 60,
        "description", "facts about the user"))));

    fake.enqueue(toolCall("memory_append", "{\"label\":\"human\",\"text\":\"Name: Ada\"}"), text("Hello, Ada."));
    JsonNode first = run(agent, "I am Ada.", "user-1");
    assertThat(first.get("status").asText()).as(first.toString()).isEqualTo("completed");
    JsonNode offered = fake.requests().get(fake.requests().size() - 2).body().get("tools");
    assertThat(offered.toString()).contains("memory_append").contains("memory_replace").contains("\"enum\":[\"human\"]");
    JsonNode step = api.get("/api/runs/" + first.get("id").asText() + "/steps").json().at("/data/1");
    assertThat(step.get("name").asText()).isEqualTo("memory_append");
    assertThat(step.get("status").asText()).isEqualTo("completed");
    JsonNode memory = api.get("/api/agents/" + agent + "/memory/user-1").json();
    assertThat(memory.at("/blocks/0/label").asText()).isEqualTo("human");
    assertThat(memory.at("/blocks/0/value").asText()).isEqualTo("Name: Ada");
    assertThat(memory.at("/blocks/0/version").asInt()).isEqualTo(1);

    // A new conversation with the same key starts knowing it; another key does not.
    fake.enqueue(text("Welcome back."), text("Hello, stranger."));
    run(agent, "Hi again", "user-1");
    String remembered = fake.lastRequest().body().at("/messages/0/content").asText();
    assertThat(remembered).contains("<memory_block label=\"human\"").contains("Name: Ada");
    run(agent, "Hi", "user-2");
    String other = fake.lastRequest().body().at("/messages/0/content").asText();
    assertThat(other).contains("<memory_block label=\"human\"").doesNotContain("Ada");
    assertThat(api.get("/api/agents/" + agent + "/memory/user-2").json().at("/blocks/0/value").asText()).isEmpty();

    // Replacing keeps history; a change beyond the limit is the tool's error and changes nothing.
    fake.enqueue(toolCall("memory_replace", "{\"label\":\"human\",\"old\":\"Ada\",\"new\":\"Ada Lovelace\"}"),
        toolCall("memory_append", "{\"label\":\"human\",\"text\":\"" + "x".repeat(80) + "\"}"), text("Noted."));
    JsonNode third = run(agent, "My full name is Ada Lovelace.", "user-1");
    JsonNode steps = api.get("/api/runs/" + third.get("id").asText() + "/steps").json().get("data");
    assertThat(steps.get(1).get("status").asText()).isEqualTo("completed");
    assertThat(steps.get(3).get("status").asText()).isEqualTo("failed");
    assertThat(steps.get(3).get("error").asText()).contains("limit of 60");
    JsonNode versions = api.get("/api/agents/" + agent + "/memory/user-1/human/versions").json().get("data");
    assertThat(versions).hasSize(2);
    assertThat(versions.get(0).get("value").asText()).isEqualTo("Name: Ada Lovelace");
    assertThat(versions.get(0).get("changed_by").asText()).isEqualTo("run:" + third.get("id").asText());
    assertThat(versions.get(1).get("value").asText()).isEqualTo("Name: Ada");

    // A person edits it through the API, within the limit.
    Http.Response set = api.send("PUT", "/api/agents/" + agent + "/memory/user-1/human",
        "{\"value\":\"Name: Ada Lovelace; prefers tea\"}", Map.of("Content-Type", "application/json"));
    assertThat(set.status()).as(set.toString()).isEqualTo(200);
    assertThat(set.json().get("version").asInt()).isEqualTo(3);
    Http.Response tooLong = api.send("PUT", "/api/agents/" + agent + "/memory/user-1/human",
        "{\"value\":\"" + "y".repeat(61) + "\"}", Map.of("Content-Type", "application/json"));
    assertThat(tooLong.status()).isEqualTo(422);
    assertThat(api.send("PUT", "/api/agents/" + agent + "/memory/user-1/nope", "{\"value\":\"x\"}",
        Map.of("Content-Type", "application/json")).status()).isEqualTo(404);

    // The memory a run saw is in its journal: replayed, the run decides the same.
    JsonNode replay = api.post("/api/runs/" + first.get("id").asText() + "/replay", Map.of()).json();
    assertThat(replay.get("deterministic").asBoolean()).as(replay.toString()).isTrue();

    // Another workspace reaches neither the agent nor its memory.
    Http stranger = Workspaces.otherWorkspace(server, "memory-other");
    assertThat(stranger.get("/api/agents/" + agent + "/memory/user-1").status()).isEqualTo(404);
  }

  @Test
  void without_a_memory_key_no_memory_is_read_or_offered() {
    String agent = setup.agent(List.of(), Map.of("memory_blocks", List.of(Map.of("label", "human"))));
    fake.enqueue(text("Hi."));
    var r = api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", "Hello"));
    assertThat(r.json().get("status").asText()).isEqualTo("completed");
    assertThat(String.valueOf(fake.lastRequest().body().get("tools"))).doesNotContain("memory_append");
    assertThat(fake.lastRequest().body().at("/messages/0/content").asText()).doesNotContain("memory_block");

    var bad = api.post("/api/agents", Map.of("name", "mem-bad", "system_prompt", "x",
        "model", Map.of("provider", "fake", "name", FakeModelServer.MODEL),
        "memory_blocks", List.of(Map.of("label", "Bad Label"))));
    assertThat(bad.status()).isEqualTo(422);
    assertThat(bad.json().toString()).contains("memory_blocks[0].label");
  }

  private static JsonNode run(String agent, String input, String memoryKey) {
    return api.post("/api/agents/" + agent + "/runs?wait=true", Map.of("input", input, "memory_key", memoryKey))
        .json();
  }
}
