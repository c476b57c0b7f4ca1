package io.aryabhatta.model;

/**
 * A tool call the model asked for.
 *
 * @param id the provider's id, or a stable generated one when the provider sent none
 * @param name the tool's name
 * @param arguments the arguments as JSON text, exactly as received; it may be invalid JSON, which
 *     the agent loop reports back to the model as a tool error
 */
public record ToolCall(String id, String name, String arguments) {}
