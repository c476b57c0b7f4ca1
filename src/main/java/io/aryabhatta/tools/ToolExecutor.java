package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;

public final class ToolExecutor {
  public ToolOutcome execute(ToolDefinition tool, JsonNode arguments, ToolContext context) {
    throw new UnsupportedOperationException("stub");
  }
}
