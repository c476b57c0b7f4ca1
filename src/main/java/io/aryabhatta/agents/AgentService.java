package io.aryabhatta.agents;

public final class AgentService {
  public AgentVersion version(String workspaceId, String agentId, Integer version) {
    throw new UnsupportedOperationException("stub");
  }
}
