package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A chat request with its body written once: the same text is journaled before the call and sent
 * to the provider, so the loop neither serializes the request twice nor compares two copies.
 *
 * @param body the request body as a tree, recorded as the request the answer was given to
 * @param json {@code body} as JSON text: what is journaled and sent
 */
public record WrittenRequest(ChatRequest request, JsonNode body, String json) {}
