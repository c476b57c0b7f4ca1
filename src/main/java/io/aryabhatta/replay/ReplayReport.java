package io.aryabhatta.replay;

import java.util.List;

/**
 * What replaying a run found: whether today's agent version and code make the same decisions
 * from the run's recorded model responses and tool results.
 *
 * @param agentVersion which version was asked for: {@code pinned} (the run's) or {@code latest}
 * @param agentVersionUsed the version number replayed
 * @param differences differences about the run as a whole (configuration, how it ended)
 * @param steps one entry per journal step, in order
 */
public record ReplayReport(String runId, String agentVersion, int agentVersionUsed, boolean deterministic,
    List<String> differences, List<StepReport> steps) {

  /**
   * One journal step replayed.
   *
   * @param copiedFromRunId for a fork's copied steps: the run that made them; they are history
   *     made under that run's configuration, so they are not compared
   */
  public record StepReport(int index, String type, boolean same, List<String> differences,
      String copiedFromRunId) {}
}
