package io.aryabhatta.agents;

import java.time.Instant;
import java.util.List;

/**
 * An agent as the API shows it: its latest version, and the {@code variables} its system prompt
 * expects.
 */
public record AgentView(String id, String name, String description, String systemPrompt, ModelSettings model,
    List<String> tools, String toolApproval, int maxSteps, int contextWindow, List<String> knowledge,
    List<MemoryBlockSpec> memoryBlocks, List<String> agents, List<String> variables, int version, Instant createdAt, Instant updatedAt) {

  static AgentView of(AgentVersion v, Instant createdAt, Instant updatedAt) {
    return new AgentView(v.agentId(), v.name(), v.description(), v.systemPrompt(), v.model(), v.tools(),
        v.toolApproval(), v.maxSteps(), v.contextWindow(), v.knowledge(), v.memoryBlocks(), v.agents(),
        PromptVariables.names(v.systemPrompt()),
        v.version(),
        createdAt, updatedAt);
  }
}
