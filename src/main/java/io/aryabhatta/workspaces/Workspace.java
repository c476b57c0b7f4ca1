package io.aryabhatta.workspaces;

import java.time.Instant;

public record Workspace(String id, String name, Instant createdAt) {
  public static final String DEFAULT_ID = "default";
}
