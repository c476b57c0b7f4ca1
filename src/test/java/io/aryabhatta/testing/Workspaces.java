package io.aryabhatta.testing;

import java.util.Map;

/** Creates a second workspace and returns a client holding one of its keys. */
public final class Workspaces {
  private Workspaces() {}

  public static Http otherWorkspace(TestServer server, String name) {
    var workspace = server.admin.post("/api/workspaces", Map.of("name", name));
    if (workspace.status() != 201) {
      throw new AssertionError("cannot create workspace: " + workspace);
    }
    var key = server.admin.post("/api/workspaces/" + workspace.json().get("id").asText() + "/keys", Map.of());
    if (key.status() != 201) {
      throw new AssertionError("cannot create key: " + key);
    }
    return server.as(key.json().get("key").asText());
  }
}
