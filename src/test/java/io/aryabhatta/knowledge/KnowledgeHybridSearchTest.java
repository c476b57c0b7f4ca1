package io.aryabhatta.knowledge;

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

/**
 * Hybrid search: a knowledge base that names an embedding model is embedded through the
 * provider's {@code /embeddings} (the scripted model serves deterministic vectors in which
 * synonyms are near), and its full-text and vector rankings are fused.
 */
class KnowledgeHybridSearchTest {
  /** Concepts whose documents and questions use different words for the same thing. */
  private static final String[][] SYNONYMS = {{"automobile", "car"}, {"holiday", "vacation"}, {"salary", "wage"},
      {"laptop", "computer"}, {"physician", "doctor"}};
  /** Other policies of every office, which share the questions' other words. */
  private static final String[] OTHERS = {"printer", "parking", "badge", "lunch", "security"};
  private static final String[] CITIES = {"Lisbon", "Osaka", "Tromso", "Quito", "Nairobi", "Perth", "Tallinn",
      "Cusco", "Hanoi", "Dakar", "Oslo", "Lima", "Accra", "Hobart", "Riga", "Bergen", "Tunis", "Kyoto", "Porto",
      "Quebec", "Zagreb", "Cork", "Malmo", "Graz"};

  static FakeModelServer fake;
  static TestServer server;
  static Http api;

  @BeforeAll
  static void start() {
    fake = FakeModelServer.start();
    server = TestServer.start();
    api = server.admin;
    new AgentSetup(api, fake); // the provider "fake", pointing at the scripted model
  }

  @AfterAll
  static void stop() {
    server.close();
    fake.close();
  }

  @Test
  void fusing_full_text_and_vector_rankings_finds_documents_that_use_other_words_for_the_question() {
    String hybrid = api.post("/api/knowledge_bases", Map.of("name", "offices-hybrid",
        "embedding", Map.of("provider", "fake", "model", "fake-embed"))).json().get("id").asText();
    String fullText = api.post("/api/knowledge_bases", Map.of("name", "offices-fts")).json().get("id").asText();
    for (String city : CITIES) {
      // The other policies first: among ties, full-text search ranks the older chunks first.
      for (String other : OTHERS) {
        addPolicy(hybrid, fullText, city, other);
      }
      for (String[] concept : SYNONYMS) {
        addPolicy(hybrid, fullText, city, concept[0]);
      }
    }
    awaitReady(hybrid, CITIES.length * 10);
    awaitReady(fullText, CITIES.length * 10);

    int hybridFound = 0;
    int fullTextFound = 0;
    int questions = 0;
    for (String city : CITIES) {
      for (String[] concept : SYNONYMS) {
        questions++;
        String question = "What are the " + concept[1] + " rules of the " + city + " office?";
        String expected = city + "-" + concept[0] + ".txt";
        hybridFound += found(hybrid, question, expected) ? 1 : 0;
        fullTextFound += found(fullText, question, expected) ? 1 : 0;
      }
    }
    double hybridRecall = (double) hybridFound / questions;
    double fullTextRecall = (double) fullTextFound / questions;
    System.out.printf("knowledge: recall@5 over %d synonym questions: full text %.3f, hybrid %.3f%n", questions,
        fullTextRecall, hybridRecall);
    // Each office has ten policies matching the question's other words equally, and the one asked
    // about says the question's key word differently: full text alone ranks it among ten ties,
    // while its vector is the nearest.
    assertThat(hybridRecall).isGreaterThanOrEqualTo(0.9);
    assertThat(hybridRecall).isGreaterThan(fullTextRecall + 0.2);

    JsonNode top = api.post("/api/knowledge_bases/" + hybrid + "/search", Map.of("query",
        "What are the car rules of the Oslo office?", "top_k", 3)).json().at("/data/0");
    assertThat(top.get("document_name").asText()).isEqualTo("Oslo-automobile.txt");
    assertThat(top.get("score").asDouble()).isPositive();
  }

  @Test
  void embeddings_are_retried_and_a_document_whose_provider_keeps_failing_waits_saying_why() {
    String base = api.post("/api/knowledge_bases", Map.of("name", "retried",
        "embedding", Map.of("provider", "fake", "model", "fake-embed"))).json().get("id").asText();
    fake.failEmbeddings(2);
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "a.txt", "text", "Laptops are replaced "
        + "every three years."));
    awaitReady(base, 1);

    // A provider that keeps failing: the document waits to be tried again later, saying why.
    fake.failEmbeddings(1_000);
    try {
      api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "b.txt", "text", "Not indexed yet."));
      JsonNode waiting = awaitError(base, "b.txt");
      assertThat(waiting.get("status").asText()).isEqualTo("pending");
      assertThat(waiting.get("error").asText()).contains("could not be embedded").contains("503")
          .contains("tried again later").doesNotContain(FakeModelServer.API_KEY);
      assertThat(waiting.get("attempts").asInt()).isEqualTo(1);
    } finally {
      fake.failEmbeddings(0);
    }

    var refused = api.post("/api/knowledge_bases", Map.of("name", "nowhere",
        "embedding", Map.of("provider", "nope", "model", "m")));
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.json().toString()).contains("embedding.provider");
  }

  private static void addPolicy(String hybrid, String fullText, String city, String word) {
    String text = "The " + city + " office rules for " + word + " are posted at the front desk.";
    for (String base : List.of(hybrid, fullText)) {
      Http.Response r = api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name",
          city + "-" + word + ".txt", "text", text));
      assertThat(r.status()).as(r.toString()).isIn(200, 202);
    }
  }

  private static boolean found(String base, String question, String expected) {
    JsonNode hits = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", question, "top_k", 5))
        .json().get("data");
    for (JsonNode hit : hits) {
      if (hit.get("document_name").asText().equals(expected)) {
        return true;
      }
    }
    return false;
  }

  private static void awaitReady(String base, int documents) {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      JsonNode page = api.get("/api/knowledge_bases/" + base + "/documents?limit=200").json();
      long ready = 0;
      long total = 0;
      String after = null;
      do {
        for (JsonNode d : page.get("data")) {
          total++;
          assertThat(d.get("status").asText()).as(d.toString()).isNotEqualTo("failed");
          ready += d.get("status").asText().equals("ready") ? 1 : 0;
        }
        after = page.path("next_cursor").isTextual() ? page.get("next_cursor").asText() : null;
        if (after != null) {
          page = api.get("/api/knowledge_bases/" + base + "/documents?limit=200&after=" + after).json();
        }
      } while (after != null);
      if (total == documents && ready == documents) {
        return;
      }
      assertThat(System.nanoTime()).as("documents indexed in time (%d of %d)", ready, documents).isLessThan(deadline);
      AgentSetup.sleep(100);
    }
  }

  private static JsonNode awaitError(String base, String name) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      for (JsonNode d : api.get("/api/knowledge_bases/" + base + "/documents").json().get("data")) {
        if (d.get("name").asText().equals(name) && d.path("error").isTextual()) {
          return d;
        }
      }
      assertThat(System.nanoTime()).as(name + " says why it is not indexed, in time").isLessThan(deadline);
      AgentSetup.sleep(100);
    }
  }
}
