package io.aryabhatta.agents;

import java.time.Instant;
import java.util.List;

/** One immutable version of an agent as the API shows it; {@code created_at} is when it was made. */
public record AgentVersionView(String agentId, int version, String name, String description, String systemPrompt,
    ModelSettings model, List<String> tools, String toolApproval, int maxSteps, int contextWindow,
    List<String> knowledge, List<MemoryBlockSpec> memoryBlocks, List<String> agents, List<String> variables, Instant createdAt) {

  static AgentVersionView of(AgentVersion v) {
    return new AgentVersionView(v.agentId(), v.version(), v.name(), v.description(), v.systemPrompt(), v.model(),
        v.tools(), v.toolApproval(), v.maxSteps(), v.contextWindow(), v.knowledge(), v.memoryBlocks(), v.agents(),
        PromptVariables.names(v.systemPrompt()),
        v.createdAt());
  }
}
