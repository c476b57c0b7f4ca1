package io.aryabhatta.evaluations;

import java.util.List;

/** One case's outcome in a report: pass or the list of failed expectations, and what the run cost. */
public record CaseResult(String caseId, String name, boolean passed, List<String> failures, String runId,
    String runStatus, String output, int steps, int totalTokens, long durationMs) {}
