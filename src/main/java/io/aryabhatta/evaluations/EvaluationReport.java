package io.aryabhatta.evaluations;

import java.time.Instant;
import java.util.List;

public record EvaluationReport(String id, String agentId, int agentVersion, int passed, int failed,
    List<CaseResult> cases, Instant createdAt, Instant finishedAt) {}
