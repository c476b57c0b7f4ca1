package io.aryabhatta.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Knowledge bases: how fast documents are indexed (chunks per second, from the first upload until
 * every document is ready) and how long a search takes (p50 and p99 of sequential searches), at
 * several sizes; full-text only, and hybrid (the fake model's embeddings, an exact vector scan).
 */
final class KnowledgeBench {
  private static final int CHUNKS_PER_DOCUMENT = 100;
  private static final int SEARCHES = 200;
  /** Each hybrid search scans every vector: fewer of them keep the benchmark short. */
  private static final int HYBRID_SEARCHES = 50;
  /**
   * A vocabulary of 3,000 made-up words, used uniformly: each word is in about 5% of the chunks,
   * so a three-word query matches about one chunk in seven (real text matches fewer).
   */
  private static final String[] WORDS = vocabulary(3_000);

  private KnowledgeBench() {}

  private static String[] vocabulary(int size) {
    String[] syllables = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "du", "sa", "ko", "li", "ma", "nu"};
    String[] words = new String[size];
    for (int i = 0; i < size; i++) {
      words[i] = syllables[i % 15] + syllables[(i / 15) % 15] + syllables[(i / 225) % 15] + "n";
    }
    return words;
  }

  record Figures(String kind, int chunks, double indexSeconds, double chunksPerSecond, double searchP50Ms,
      double searchP99Ms) {}

  static Figures run(BenchServer server, String kind, int chunks) {
    Api api = server.api;
    Map<String, Object> base = kind.equals("hybrid")
        ? Map.of("name", "bench-" + kind + "-" + chunks, "embedding", Map.of("provider", "bench", "model", "bench-embed"))
        : Map.of("name", "bench-" + kind + "-" + chunks);
    String id = api.post("/api/knowledge_bases", base).get("id").asText();
    Random random = new Random(chunks);
    int documents = chunks / CHUNKS_PER_DOCUMENT;
    long started = System.nanoTime();
    for (int d = 0; d < documents; d++) {
      api.post("/api/knowledge_bases/" + id + "/documents", Map.of("name", "doc-" + d + ".md", "format", "markdown",
          "text", document(random, d)));
    }
    awaitReady(server, id, documents);
    double seconds = (System.nanoTime() - started) / 1e9;
    List<Double> latencies = new ArrayList<>();
    for (int i = 0; i < (kind.equals("hybrid") ? HYBRID_SEARCHES : SEARCHES); i++) {
      String query = WORDS[random.nextInt(WORDS.length)] + " " + WORDS[random.nextInt(WORDS.length)] + " "
          + WORDS[random.nextInt(WORDS.length)];
      long t = System.nanoTime();
      JsonNode hits = api.post("/api/knowledge_bases/" + id + "/search", Map.of("query", query, "top_k", 5));
      latencies.add((System.nanoTime() - t) / 1e6);
      if (!hits.has("data")) {
        throw new IllegalStateException("search answered " + hits);
      }
    }
    latencies.sort(Double::compare);
    return new Figures(kind, chunks, seconds, chunks / seconds, latencies.get(latencies.size() / 2),
        latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1));
  }

  /** One section per chunk: a heading, then about 200 tokens of words. */
  private static String document(Random random, int n) {
    StringBuilder text = new StringBuilder("# Document ").append(n).append("\n\n");
    for (int section = 0; section < CHUNKS_PER_DOCUMENT; section++) {
      text.append("## Section ").append(section).append("\n\n");
      for (int w = 0; w < 150; w++) {
        text.append(WORDS[random.nextInt(WORDS.length)]).append(w % 15 == 14 ? ". " : " ");
      }
      text.append("\n\n");
    }
    return text.toString();
  }

  private static void awaitReady(BenchServer server, String baseId, int documents) {
    while (true) {
      Map<String, Object> counts = server.jdbi().withHandle(h -> h.createQuery("""
              SELECT count(*) FILTER (WHERE status = 'ready') AS ready, count(*) FILTER (WHERE status = 'failed') AS failed
              FROM knowledge_documents WHERE knowledge_base_id = :b""").bind("b", baseId).mapToMap().one());
      if (((Number) counts.get("failed")).longValue() > 0) {
        throw new IllegalStateException("documents failed to index");
      }
      if (((Number) counts.get("ready")).longValue() == documents) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static String table(List<Figures> figures) {
    StringBuilder text = new StringBuilder("""
        ### Knowledge bases (indexing from the first upload until every document is ready; sequential searches)

        | search | chunks | indexed in | chunks/s | search p50 | p99 |
        |---|---:|---:|---:|---:|---:|
        """);
    for (Figures f : figures) {
      text.append(String.format(Locale.ROOT, "| %s | %,d | %.1f s | %,.0f | %.2f ms | %.2f ms |%n", f.kind(),
          f.chunks(), f.indexSeconds(), f.chunksPerSecond(), f.searchP50Ms(), f.searchP99Ms()));
    }
    return text.toString();
  }
}
