package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;

/** A tool offered to the model: name, description and JSON Schema of its arguments. */
public record ToolSpec(String name, String description, JsonNode parameters) {}
