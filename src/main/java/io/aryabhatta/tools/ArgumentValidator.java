package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.PathType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks tool-call arguments against the tool's JSON Schema before the tool runs.
 * Schemas without {@code $schema} are read as draft 2020-12. Remote {@code $ref}s are never
 * fetched. Compiled schemas are cached by their text, so a tool's schema is compiled once.
 */
public final class ArgumentValidator {
  private static final int CACHED_SCHEMAS = 1_000;

  // The validator library speaks Jackson 3 while the rest of the system uses Jackson 2, so schemas
  // and arguments cross over as JSON text.
  private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(
      SpecificationVersion.DRAFT_2020_12, builder -> builder
          .schemaLoader(loader -> loader.fetchRemoteResources(false))
          .schemaRegistryConfig(SchemaRegistryConfig.builder().pathType(PathType.JSON_PATH).build()));
  private final Map<String, Schema> compiled = Collections.synchronizedMap(
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Schema> eldest) {
          return size() > CACHED_SCHEMAS;
        }
      });

  /**
   * Validates {@code arguments} (null counts as {@code {}}) against {@code schema} (null accepts anything).
   *
   * @return readable problems, each naming the JSON path of the offending value, e.g.
   *     {@code "$.order_id: required property 'order_id' not found"}; empty when valid
   */
  public List<String> validate(JsonNode schema, JsonNode arguments) {
    if (schema == null || schema.isNull()) {
      return List.of();
    }
    JsonNode instance = arguments == null || arguments.isNull() ? JsonNodeFactory.instance.objectNode() : arguments;
    Schema compiledSchema;
    try {
      compiledSchema = compiled.computeIfAbsent(schema.toString(),
          text -> registry.getSchema(text, InputFormat.JSON));
    } catch (SchemaException | IllegalArgumentException e) {
      return List.of("the tool's parameter schema is invalid: " + e.getMessage());
    }
    try {
      List<Error> errors = compiledSchema.validate(instance.toString(), InputFormat.JSON);
      return errors.stream().map(ArgumentValidator::describe).toList();
    } catch (SchemaException e) {
      // e.g. a $ref that cannot be resolved: only discovered while validating
      return List.of("the tool's parameter schema cannot be used: " + e.getMessage());
    }
  }

  private static String describe(Error error) {
    return error.getInstanceLocation() + ": " + error.getMessage();
  }
}
