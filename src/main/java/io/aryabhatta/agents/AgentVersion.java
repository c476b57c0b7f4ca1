package io.aryabhatta.agents;

import java.time.Instant;
import java.util.List;

/**
 * One immutable version of an agent: what a run pins when it starts.
 *
 * @param toolApproval never, always or per_tool
 * @param contextWindow the most prompt tokens (estimated) sent to the model
 */
public record AgentVersion(String agentId, String workspaceId, String name, int version, String description,
    String systemPrompt, ModelSettings model, List<String> tools, String toolApproval, int maxSteps,
    int contextWindow, Instant createdAt) {
  public AgentVersion {
    tools = tools == null ? List.of() : List.copyOf(tools);
  }
}
