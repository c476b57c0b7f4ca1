package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** @param memoryKey whose memory blocks of the agent its runs read and keep; null for none */
public record Conversation(String id, String agentId, JsonNode variables, JsonNode metadata, String memoryKey,
    Instant createdAt) {}
