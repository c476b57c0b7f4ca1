package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** A conversation message as the model saw it. */
public record Message(int seq, String runId, String role, String content, JsonNode toolCalls, String toolCallId,
    String name, Instant createdAt) {}
