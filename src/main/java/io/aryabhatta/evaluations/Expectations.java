package io.aryabhatta.evaluations;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a test case expects of a run; every given expectation must hold.
 *
 * @param toolCalled a tool the run must have called (successfully or not)
 * @param toolArguments a JSON Schema that the arguments of at least one call of {@code toolCalled}
 *     must match
 * @param outputContains text the final answer must contain
 * @param outputMatches a regular expression the final answer must match (find, not whole match)
 * @param outputSchema a JSON Schema the final answer, parsed as JSON, must match
 */
public record Expectations(String toolCalled, JsonNode toolArguments, String outputContains, String outputMatches,
    JsonNode outputSchema) {
  public Expectations {
    // A stored JSON null reads back as a NullNode; both mean "no such expectation".
    toolArguments = toolArguments == null || toolArguments.isNull() ? null : toolArguments;
    outputSchema = outputSchema == null || outputSchema.isNull() ? null : outputSchema;
  }
}
