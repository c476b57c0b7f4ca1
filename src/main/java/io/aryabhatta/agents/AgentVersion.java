package io.aryabhatta.agents;

import java.time.Instant;
import java.util.List;

/**
 * One immutable version of an agent: what a run pins when it starts.
 *
 * @param toolApproval never, always or per_tool
 * @param contextWindow the most prompt tokens (estimated) sent to the model
 * @param knowledge names of the workspace's knowledge bases the agent searches (its
 *     {@code search_knowledge} tool); empty for none
 * @param memoryBlocks the memory blocks it keeps per memory key; empty for none
 * @param agents names of the workspace's agents it may call as tools (each a child run); empty for none
 */
public record AgentVersion(String agentId, String workspaceId, String name, int version, String description,
    String systemPrompt, ModelSettings model, List<String> tools, String toolApproval, int maxSteps,
    int contextWindow, List<String> knowledge, List<MemoryBlockSpec> memoryBlocks, List<String> agents, Instant createdAt) {
  public AgentVersion {
    tools = tools == null ? List.of() : List.copyOf(tools);
    knowledge = knowledge == null ? List.of() : List.copyOf(knowledge);
    memoryBlocks = memoryBlocks == null ? List.of() : List.copyOf(memoryBlocks);
    agents = agents == null ? List.of() : List.copyOf(agents);
  }
}
