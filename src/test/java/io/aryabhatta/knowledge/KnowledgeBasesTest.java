package io.aryabhatta.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import io.aryabhatta.testing.Workspaces;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Knowledge bases over HTTP: documents in four formats, indexing, full-text search, and bad files. */
class KnowledgeBasesTest {
  /** Made-up product names: each names one document, and appears in no other. */
  private static final String[] SYLLABLES = {"zor", "blax", "quen", "tiv", "mor", "dash", "vel", "kri", "pon",
      "sul", "gat", "rem", "fio", "nak", "lup", "tesh", "bri", "vok", "hal", "zin"};
  private static final String[] CITIES = {"Lisbon", "Osaka", "Tromso", "Quito", "Nairobi", "Perth", "Tallinn",
      "Cusco", "Hanoi", "Dakar"};

  static TestServer server;
  static Http api;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    api = server.admin;
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** One document of the corpus: its made-up product, the city it ships from, and its format. */
  record Fact(String product, String city, int weight, String format) {
    String question() {
      return "Where does the " + product + " ship from and how much does it weigh?";
    }
  }

  @Test
  void a_corpus_in_four_formats_is_indexed_and_full_text_search_finds_the_document_that_answers() throws Exception {
    String base = api.post("/api/knowledge_bases", Map.of("name", "catalog", "description", "products"))
        .json().get("id").asText();
    List<Fact> facts = new ArrayList<>();
    String[] formats = {"text", "markdown", "html", "pdf"};
    for (int i = 0; i < 240; i++) {
      String product = SYLLABLES[i % 20] + SYLLABLES[(i / 20) % 20] + SYLLABLES[(i * 7 + 3) % 20] + "-" + i;
      facts.add(new Fact(product, CITIES[i % CITIES.length], 2 + i % 17, formats[i % 4]));
    }
    for (Fact fact : facts) {
      int status = add(base, fact);
      assertThat(status).as(fact.toString()).isIn(200, 202);
    }
    awaitAllReady(base, facts.size());

    int found = 0;
    List<String> missed = new ArrayList<>();
    for (Fact fact : facts) {
      JsonNode hits = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", fact.question(),
          "top_k", 5)).json().get("data");
      boolean hit = false;
      for (JsonNode h : hits) {
        hit |= h.get("document_name").asText().startsWith(fact.product() + ".");
      }
      if (hit) {
        found++;
      } else {
        missed.add(fact.format() + " " + fact.product() + " → " + hits.findValuesAsText("document_name"));
      }
    }
    System.out.println("knowledge: missed " + missed.stream().limit(8).toList());
    double recall = (double) found / facts.size();
    System.out.printf("knowledge: full-text recall@5 = %.3f over %d questions%n", recall, facts.size());
    // Each question names its document's product, a word no other document holds, beside words
    // that every document holds: ranking by full-text search alone must find nearly all.
    assertThat(recall).isGreaterThanOrEqualTo(0.95);

    // A hit cites its document, chunk and place, and carries the text that answers.
    Fact pdf = facts.stream().filter(f -> f.format().equals("pdf")).findFirst().orElseThrow();
    JsonNode top = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", pdf.question()))
        .json().at("/data/0");
    assertThat(top.get("document_name").asText()).isEqualTo(pdf.product() + ".pdf");
    assertThat(top.get("page").asInt()).isEqualTo(2);
    assertThat(top.get("text").asText()).contains(pdf.city());
    assertThat(top.get("chunk_id").asText()).isNotBlank();
    assertThat(top.get("score").asDouble()).isPositive();
    Fact markdown = facts.stream().filter(f -> f.format().equals("markdown")).findFirst().orElseThrow();
    JsonNode mdHit = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", markdown.question()))
        .json().at("/data/0");
    assertThat(mdHit.get("heading_path").toString()).contains(markdown.product()).contains("Shipping");
  }

  @Test
  void re_adding_replaces_a_document_and_the_same_content_is_not_processed_twice() throws Exception {
    String base = api.post("/api/knowledge_bases", Map.of("name", "handbook")).json().get("id").asText();
    Http.Response first = api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "leave.md", "format", "markdown", "text", "# Leave\n\nEmployees get 25 vacation days."));
    assertThat(first.status()).as(first.toString()).isEqualTo(202);
    String id = first.json().get("id").asText();
    awaitAllReady(base, 1);

    Http.Response same = api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "leave.md", "format", "markdown", "text", "# Leave\n\nEmployees get 25 vacation days."));
    assertThat(same.status()).isEqualTo(200);
    assertThat(same.json().get("status").asText()).isEqualTo("ready");
    assertThat(same.json().get("attempts").asInt()).isEqualTo(1);

    Http.Response copy = api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "leave-copy.md", "format", "markdown", "text", "# Leave\n\nEmployees get 25 vacation days."));
    assertThat(copy.status()).isEqualTo(200);
    assertThat(copy.json().get("status").asText()).isEqualTo("ready");
    assertThat(copy.json().get("attempts").asInt()).isZero();
    assertThat(copy.json().get("chunks_count").asInt()).isEqualTo(1);

    Http.Response replaced = api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "leave.md", "format", "markdown", "text", "# Leave\n\nEmployees get 30 vacation days now."));
    assertThat(replaced.status()).isEqualTo(202);
    assertThat(replaced.json().get("id").asText()).isEqualTo(id);
    awaitAllReady(base, 2);
    JsonNode hits = api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "vacation days"))
        .json().get("data");
    List<String> texts = new ArrayList<>();
    hits.forEach(h -> texts.add(h.get("document_name").asText() + ": " + h.get("text").asText()));
    assertThat(texts).containsExactlyInAnyOrder("leave.md: Employees get 30 vacation days now.",
        "leave-copy.md: Employees get 25 vacation days.");
  }

  @Test
  void bad_files_get_a_clear_refusal_and_store_nothing() throws Exception {
    String base = api.post("/api/knowledge_bases", Map.of("name", "strict")).json().get("id").asText();
    assertRefused(upload(base, "notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "PK...".getBytes(StandardCharsets.UTF_8)), "content");
    assertRefused(upload(base, "empty.txt", "text/plain", "  \n ".getBytes(StandardCharsets.UTF_8)), "content");
    assertRefused(upload(base, "broken.pdf", "application/pdf", "%PDF-1.7 not really".getBytes(StandardCharsets.UTF_8)),
        "content");
    Http.Response encrypted = upload(base, "secret.pdf", "application/pdf", encryptedPdf());
    assertRefused(encrypted, "content");
    assertThat(encrypted.json().toString()).contains("encrypted");
    Http.Response tooLarge = upload(base, "big.txt", "text/plain", new byte[2 * 1024 * 1024]);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertRefused(api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "x")), "text");
    assertRefused(api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "x", "text", "y", "format", "docx")), "format");
    assertRefused(api.post("/api/knowledge_bases/" + base + "/documents",
        Map.of("name", "local", "url", "http://127.0.0.1:1/secret")), "url");
    assertThat(api.get("/api/knowledge_bases/" + base + "/documents").json().get("data")).isEmpty();

    assertRefused(api.post("/api/knowledge_bases", Map.of("name", "bad name!")), "name");
    assertRefused(api.post("/api/knowledge_bases", Map.of("name", "klingon", "language", "klingon")), "language");
    assertThat(api.post("/api/knowledge_bases", Map.of("name", "strict")).status()).isEqualTo(409);
    assertRefused(api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", " ")), "query");
    assertRefused(api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "x", "top_k", 500)),
        "top_k");
    assertThat(api.get("/api/knowledge_bases/nope").status()).isEqualTo(404);
  }

  @Test
  void hostile_text_is_indexed_in_time_and_a_negated_word_still_excludes() {
    String base = api.post("/api/knowledge_bases", Map.of("name", "hostile")).json().get("id").asText();
    // Long runs of spaces after a heading mark, in lines no pattern closes: cubic for a naive regex.
    String spaces = ("# " + " ".repeat(20_000) + "\u2028x\n").repeat(20);
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "spaces.md", "format", "markdown",
        "text", spaces + "\n\nThe end of the spaces."));
    String oneParagraph = "word ".repeat(150_000);
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "long.txt", "text", oneParagraph));
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "leave.md", "format", "markdown", "text",
        "# Vacation\n\nVacation days: 25.\n\n# Sick leave\n\nSick days need a note, even on vacation."));
    awaitAllReady(base, 3);

    List<String> found = new ArrayList<>();
    api.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "vacation -sick")).json().get("data")
        .forEach(h -> found.add(h.get("text").asText()));
    assertThat(found).containsExactly("Vacation days: 25.");
  }

  @Test
  void another_workspace_neither_sees_nor_searches_a_knowledge_base() {
    String base = api.post("/api/knowledge_bases", Map.of("name", "private-kb")).json().get("id").asText();
    api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name", "a.txt", "text", "The vault code is 1234."));
    awaitAllReady(base, 1);
    Http other = Workspaces.otherWorkspace(server, "kb-other");
    assertThat(other.get("/api/knowledge_bases/" + base).status()).isEqualTo(404);
    assertThat(other.post("/api/knowledge_bases/" + base + "/search", Map.of("query", "vault code")).status())
        .isEqualTo(404);
    assertThat(other.get("/api/knowledge_bases").json().get("data")).isEmpty();
    assertThat(other.post("/api/knowledge_bases", Map.of("name", "private-kb")).status()).isEqualTo(201);
  }

  // ---- the corpus ----

  private static int add(String base, Fact fact) throws Exception {
    String body = fact.product() + " ships from " + fact.city() + ". The " + fact.product() + " weighs "
        + fact.weight() + " kg. Like every widget in the catalog it is packed in a box and shipped by sea.";
    String general = "Widgets in the catalog ship from a warehouse and weigh a few kilograms; "
        + "delivery takes two weeks.";
    return switch (fact.format()) {
      case "text" -> upload(base, fact.product() + ".txt", "text/plain",
          (general + "\n\n" + body).getBytes(StandardCharsets.UTF_8)).status();
      case "markdown" -> api.post("/api/knowledge_bases/" + base + "/documents", Map.of("name",
          fact.product() + ".md", "format", "markdown", "text", "# " + fact.product() + "\n\n" + general
              + "\n\n## Shipping\n\n" + body)).status();
      case "html" -> upload(base, fact.product() + ".html", "text/html", ("<html><head><script>var x = 1;</script>"
          + "</head><body><nav>Home | Catalog</nav><h1>" + fact.product() + "</h1><p>" + general + "</p><h2>Shipping"
          + "</h2><p>" + body + "</p></body></html>").getBytes(StandardCharsets.UTF_8)).status();
      default -> upload(base, fact.product() + ".pdf", "application/pdf", pdf(general, body)).status();
    };
  }

  /** Two pages: the general text, then the product's. */
  private static byte[] pdf(String... pages) throws IOException {
    try (PDDocument document = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      for (String text : pages) {
        PDPage page = new PDPage();
        document.addPage(page);
        try (PDPageContentStream content = new PDPageContentStream(document, page)) {
          content.beginText();
          content.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 10);
          content.newLineAtOffset(50, 700);
          for (String line : wrap(text, 90)) {
            content.showText(line);
            content.newLineAtOffset(0, -14);
          }
          content.endText();
        }
      }
      document.save(out);
      return out.toByteArray();
    }
  }

  private static byte[] encryptedPdf() throws IOException {
    try (PDDocument document = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      document.addPage(new PDPage());
      StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-pw", "user-pw", new AccessPermission());
      policy.setEncryptionKeyLength(128);
      document.protect(policy);
      document.save(out);
      return out.toByteArray();
    }
  }

  private static List<String> wrap(String text, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.split(" ")) {
      if (line.length() + word.length() + 1 > width) {
        lines.add(line.toString());
        line.setLength(0);
      }
      line.append(line.isEmpty() ? "" : " ").append(word);
    }
    lines.add(line.toString());
    return lines;
  }

  // ---- HTTP ----

  private static Http.Response upload(String base, String filename, String contentType, byte[] content)
      throws IOException, InterruptedException {
    String boundary = "----kb" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
        + "\"\r\nContent-Type: " + contentType + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.write(content);
    body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/knowledge_bases/" + base
            + "/documents"))
        .timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + TestServer.ADMIN_KEY)
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
    try (HttpClient client = HttpClient.newHttpClient()) {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return new Http.Response(response.statusCode(), response.headers(), response.body());
    }
  }

  private static void awaitAllReady(String base, int documents) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      List<String> states = new ArrayList<>();
      String after = null;
      do {
        JsonNode page = api.get("/api/knowledge_bases/" + base + "/documents?limit=200"
            + (after == null ? "" : "&after=" + after)).json();
        page.get("data").forEach(d -> states.add(d.get("status").asText() + " " + d.get("name").asText() + " "
            + d.path("error").asText("")));
        after = page.path("next_cursor").isTextual() ? page.get("next_cursor").asText() : null;
      } while (after != null);
      if (states.size() == documents && states.stream().allMatch(s -> s.startsWith("ready"))) {
        return;
      }
      assertThat(states.stream().filter(s -> s.startsWith("failed")).toList()).isEmpty();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("documents not all ready: " + states);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static void assertRefused(Http.Response response, String field) {
    assertThat(response.status()).as(response.toString()).isIn(400, 422);
    assertThat(response.json().toString()).as(response.toString()).contains(field);
  }
}
