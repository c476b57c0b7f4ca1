package io.aryabhatta.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /openapi.json} describes exactly the routes the server answers, and {@code /docs} renders it offline. */
class OpenApiDocumentTest {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete", "head", "options");

  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void openapi_json_documents_every_registered_route_and_no_other() {
    Http.Response r = server.anonymous().get("/openapi.json");
    assertThat(r.status()).isEqualTo(200);
    JsonNode doc = r.json();
    assertThat(doc.get("openapi").asText()).startsWith("3.1");

    Set<String> documented = new TreeSet<>();
    doc.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(method -> {
      if (METHODS.contains(method)) {
        documented.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
      }
    }));
    Set<String> registered = new TreeSet<>(server.server().routes());

    assertThat(documented).as("routes documented in openapi.json but not registered")
        .isSubsetOf(registered);
    assertThat(registered).as("routes registered but missing from src/main/resources/openapi.json")
        .isSubsetOf(documented);
  }

  @Test
  void every_schema_reference_resolves() {
    JsonNode doc = server.anonymous().get("/openapi.json").json();
    List<String> refs = new ArrayList<>();
    collectRefs(doc, refs);
    assertThat(refs).isNotEmpty();
    for (String ref : refs) {
      assertThat(doc.at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
    }
  }

  @Test
  void docs_page_is_served_without_a_key_and_loads_nothing_from_elsewhere() {
    Http.Response r = server.anonymous().get("/docs");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/html");
    assertThat(r.text()).contains("/openapi.json").doesNotContain("src=\"http").doesNotContain("href=\"http");
  }

  private static void collectRefs(JsonNode node, List<String> refs) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        if (e.getKey().equals("$ref")) {
          refs.add(e.getValue().asText());
        } else {
          collectRefs(e.getValue(), refs);
        }
      });
    } else if (node.isArray()) {
      node.forEach(child -> collectRefs(child, refs));
    }
  }
}
