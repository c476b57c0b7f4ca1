package io.aryabhatta.tools;

import java.util.List;

public final class ToolService {
  public List<ToolDefinition> resolve(String workspaceId, List<String> names) {
    throw new UnsupportedOperationException("stub");
  }
}
