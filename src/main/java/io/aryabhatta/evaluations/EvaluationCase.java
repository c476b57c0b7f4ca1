package io.aryabhatta.evaluations;

import java.time.Instant;
import java.util.Map;

public record EvaluationCase(String id, String agentId, String name, String input, Map<String, String> variables,
    Expectations expect, Instant createdAt) {}
