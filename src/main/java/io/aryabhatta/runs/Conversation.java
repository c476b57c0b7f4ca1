package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

public record Conversation(String id, String agentId, JsonNode variables, JsonNode metadata, Instant createdAt) {}
