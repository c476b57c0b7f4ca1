package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that a tool's {@code parameters} is a JSON Schema (draft 2020-12) describing an object.
 * References must stay inside the schema: a remote {@code $ref} would make the server fetch URLs.
 */
public final class ParameterSchemas {
  public static final String DIALECT = "https://json-schema.org/draft/2020-12/schema";
  private static final int MAX_PROBLEMS = 5;

  private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private final Schema metaSchema = registry.getSchema(SchemaLocation.of(DIALECT));

  /** What is wrong with a tool's parameters schema (an object schema); empty when it is valid. */
  public List<String> problems(JsonNode schema) {
    return problems(schema, true);
  }

  /** What is wrong with {@code schema}, as messages for the user; empty when it is valid. */
  public List<String> problems(JsonNode schema, boolean mustDescribeAnObject) {
    if (schema == null || !schema.isObject()) {
      return List.of("must be a JSON Schema object");
    }
    List<String> problems = new ArrayList<>();
    JsonNode schemaUri = schema.get("$schema");
    if (schemaUri != null && !(schemaUri.isTextual() && schemaUri.asText().replaceAll("#$", "").equals(DIALECT))) {
      problems.add("$schema must be absent or " + DIALECT);
    }
    collectRemoteReferences(schema, "", problems);
    if (!problems.isEmpty()) {
      return problems;
    }
    String text = schema.toString();
    // The meta-schema reports one mistake once per branch it tried (type is a name or a list of
    // names): each message once, with where in the schema it is.
    java.util.Set<String> seen = new java.util.LinkedHashSet<>();
    for (Error error : metaSchema.validate(text, InputFormat.JSON)) {
      if (seen.size() == MAX_PROBLEMS) {
        break;
      }
      seen.add("is not a valid JSON Schema: at " + where(error) + ": " + error.getMessage());
    }
    problems.addAll(seen);
    if (problems.isEmpty()) {
      try {
        registry.getSchema(text, InputFormat.JSON).initializeValidators();
      } catch (SchemaException | IllegalArgumentException e) {
        problems.add("is not a valid JSON Schema: " + e.getMessage());
      }
    }
    if (mustDescribeAnObject && problems.isEmpty() && !"object".equals(schema.path("type").asText(null))) {
      problems.add("must describe an object: set \"type\": \"object\" at the root");
    }
    return problems;
  }

  /** Where in the schema an error is, as a JSON Pointer ({@code /properties/id/type}; the root: {@code /}). */
  private static String where(Error error) {
    String location = String.valueOf(error.getInstanceLocation());
    return location.isEmpty() || location.equals("$") ? "/" : location;
  }

  private static void collectRemoteReferences(JsonNode node, String path, List<String> problems) {
    if (node.isObject()) {
      node.properties().forEach(e -> {
        String key = e.getKey();
        JsonNode value = e.getValue();
        if ((key.equals("$ref") || key.equals("$dynamicRef")) && value.isTextual() && !value.asText().startsWith("#")) {
          problems.add(path + "/" + key + " must reference a part of this schema (start with #), not "
              + value.asText());
        } else {
          collectRemoteReferences(value, path + "/" + key, problems);
        }
      });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        collectRemoteReferences(node.get(i), path + "/" + i, problems);
      }
    }
  }
}
