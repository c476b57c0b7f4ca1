package io.aryabhatta.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.ServerProcess;
import io.aryabhatta.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Indexing survives {@code kill -9}: a real server process killed while documents are being
 * indexed is restarted on the same database, and every document ends ready with each of its
 * chunks exactly once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IngestionCrashProcessTest {
  private static final int DOCUMENTS = 24;

  @Test
  void documents_indexed_when_the_process_is_killed_are_indexed_again_without_duplicate_chunks() throws Exception {
    String database = TestPostgres.freshDatabase();
    try (ServerProcess server = ServerProcess.start("ingestion-crash", database, Map.of())) {
      Http api = server.admin();
      String base = api.post("/api/knowledge_bases", Map.of("name", "big")).json().get("id").asText();
      for (int i = 0; i < DOCUMENTS; i++) {
        Http.Response added = api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "doc-" + i
            + ".md", "format", "markdown", "text", largeMarkdown(i)));
        assertThat(added.status()).as(added.toString()).isEqualTo(202);
      }
      awaitSome(api, base);
      server.kill();

      server.restart();
      List<String> states = awaitAllReady(server.admin(), base);
      assertThat(states).allMatch(s -> s.startsWith("ready"));
    }
    try (Connection db = TestPostgres.connect(database); Statement sql = db.createStatement()) {
      ResultSet rows = sql.executeQuery("""
          SELECT d.name, d.chunks_count, d.attempts, count(c.id) AS chunks, count(DISTINCT c.position) AS positions,
                 coalesce(max(c.position) + 1, 0) AS span
          FROM knowledge_documents d LEFT JOIN knowledge_chunks c ON c.document_id = d.id
          GROUP BY d.id ORDER BY d.name""");
      int documents = 0;
      int indexedTwice = 0;
      while (rows.next()) {
        documents++;
        String name = rows.getString("name");
        assertThat(rows.getInt("chunks")).as(name).isEqualTo(rows.getInt("chunks_count")).isPositive();
        assertThat(rows.getInt("positions")).as(name).isEqualTo(rows.getInt("chunks"));
        assertThat(rows.getInt("span")).as(name).isEqualTo(rows.getInt("chunks"));
        if (rows.getInt("attempts") > 1) {
          indexedTwice++;
        }
      }
      assertThat(documents).isEqualTo(DOCUMENTS);
      System.out.println("knowledge crash test: " + indexedTwice + " document(s) begun again after kill -9");
    }
  }

  /** About 150 kB in sections, so that indexing all the documents takes several seconds. */
  private static String largeMarkdown(int n) {
    StringBuilder text = new StringBuilder("# Document " + n + "\n\n");
    for (int section = 0; section < 60; section++) {
      text.append("## Section ").append(section).append("\n\n");
      for (int paragraph = 0; paragraph < 6; paragraph++) {
        text.append("Paragraph ").append(paragraph).append(" of section ").append(section).append(" in document ")
            .append(n).append(": ").append("the quick brown fox jumps over the lazy dog near the river bank. ".repeat(6))
            .append("\n\n");
      }
    }
    return text.toString();
  }

  /** Waits until indexing has begun but not finished: some documents ready, others not. */
  private static void awaitSome(Http api, String base) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      List<String> states = states(api, base);
      if (states.stream().anyMatch(s -> s.startsWith("ready")) && states.stream().anyMatch(s -> !s.startsWith("ready"))) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("indexing did not begin");
  }

  private static List<String> awaitAllReady(Http api, String base) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    List<String> states = List.of();
    while (System.nanoTime() < deadline) {
      states = states(api, base);
      if (states.size() == DOCUMENTS && states.stream().allMatch(s -> s.startsWith("ready") || s.startsWith("failed"))) {
        return states;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not all documents ended: " + states);
  }

  private static List<String> states(Http api, String base) {
    List<String> states = new ArrayList<>();
    JsonNode page = api.get("/api/knowledge_bases/" + base + "/documents?limit=200").json();
    page.get("data").forEach(d -> states.add(d.get("status").asText() + " " + d.get("name").asText() + " "
        + d.path("error").asText("")));
    return states;
  }
}
