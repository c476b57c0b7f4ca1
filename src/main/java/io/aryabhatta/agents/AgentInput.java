package io.aryabhatta.agents;

import java.util.List;

/**
 * An agent as a client writes it (POST body, or the result of applying a PATCH to the latest
 * version); absent fields take their defaults during validation.
 */
public record AgentInput(String name, String description, String systemPrompt, ModelSettings model,
    List<String> tools, String toolApproval, Integer maxSteps, Integer contextWindow, List<String> knowledge,
    List<MemoryBlockSpec> memoryBlocks, List<String> agents) {

  /** An agent without knowledge bases. */
  public AgentInput(String name, String description, String systemPrompt, ModelSettings model, List<String> tools,
      String toolApproval, Integer maxSteps, Integer contextWindow) {
    this(name, description, systemPrompt, model, tools, toolApproval, maxSteps, contextWindow, null, null, null);
  }

  static AgentInput of(AgentVersion v) {
    return new AgentInput(v.name(), v.description(), v.systemPrompt(), v.model(), v.tools(), v.toolApproval(),
        v.maxSteps(), v.contextWindow(), v.knowledge(), v.memoryBlocks(), v.agents());
  }
}
