package io.aryabhatta.engine;

import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.ModelSettings;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ChatRequest;
import io.aryabhatta.model.ToolSpec;
import io.aryabhatta.tools.ToolDefinition;
import java.util.Collection;
import java.util.List;

/**
 * How the agent loop phrases a model request from a run's state. The loop and replay both build
 * requests here, so a replay compares a recorded request with exactly what today's loop would send.
 */
public final class ModelRequests {
  private ModelRequests() {}

  public static ChatRequest build(String systemPrompt, List<ChatMessage> history, AgentVersion agent,
      Collection<ToolDefinition> tools, boolean stream) {
    ModelSettings settings = agent.model();
    List<ChatMessage> messages = ContextWindow.fit(ChatMessage.system(systemPrompt), history, agent.contextWindow());
    List<ToolSpec> specs = tools.stream().map(t -> new ToolSpec(t.name(), t.description(), t.parameters())).toList();
    return new ChatRequest(settings.name(), messages, specs, specs.isEmpty() ? null : "auto",
        settings.temperature(), settings.topP(), settings.maxTokens(), settings.seed(), stream);
  }
}
