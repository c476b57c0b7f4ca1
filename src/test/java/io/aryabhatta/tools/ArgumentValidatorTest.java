package io.aryabhatta.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ArgumentValidatorTest {
  private final ObjectMapper mapper = Json.mapper();
  private final ArgumentValidator validator = new ArgumentValidator();
  private final JsonNode schema = json("""
      {"type": "object",
       "properties": {"order_id": {"type": "string"},
                      "quantity": {"type": "integer", "minimum": 1},
                      "items": {"type": "array", "items": {"type": "object",
                                 "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}},
       "required": ["order_id"],
       "additionalProperties": false}
      """);

  @Test
  void valid_arguments_have_no_problems() {
    assertThat(validator.validate(schema, json("{\"order_id\": \"A-1\", \"quantity\": 2}"))).isEmpty();
  }

  @Test
  void missing_required_property_is_named() {
    List<String> problems = validator.validate(schema, json("{\"quantity\": 2}"));
    assertThat(problems).containsExactly("$: required property 'order_id' not found");
  }

  @Test
  void wrong_type_names_the_path() {
    List<String> problems = validator.validate(schema, json("{\"order_id\": 42, \"quantity\": \"two\"}"));
    assertThat(problems).hasSize(2);
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("$.order_id").contains("string"));
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("$.quantity").contains("integer"));
  }

  @Test
  void nested_problems_name_the_nested_path() {
    List<String> problems = validator.validate(schema, json("{\"order_id\": \"A\", \"items\": [{\"sku\": \"x\"}, {}]}"));
    assertThat(problems).singleElement().asString().contains("$.items[1]").contains("sku");
  }

  @Test
  void extra_property_is_rejected_when_the_schema_forbids_it() {
    List<String> problems = validator.validate(schema, json("{\"order_id\": \"A\", \"color\": \"red\"}"));
    assertThat(problems).singleElement().asString().startsWith("$: ").contains("'color'");
  }

  @Test
  void null_arguments_count_as_an_empty_object() {
    assertThat(validator.validate(json("{\"type\": \"object\"}"), null)).isEmpty();
    assertThat(validator.validate(schema, null)).singleElement().asString().contains("order_id");
  }

  @Test
  void a_non_object_argument_value_is_rejected() {
    assertThat(validator.validate(schema, json("[1, 2]"))).isNotEmpty();
  }

  @Test
  void remote_references_are_never_fetched() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      requests.incrementAndGet();
      byte[] body = "{\"type\": \"object\"}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/schema.json";
      List<String> problems = validator.validate(json("{\"$ref\": \"" + url + "\"}"), json("{}"));
      assertThat(problems).singleElement().asString().contains("schema cannot be used");
      assertThat(requests).hasValue(0);
    } finally {
      server.stop(0);
    }
  }

  private JsonNode json(String text) {
    return Json.read(mapper, text);
  }
}
