package io.aryabhatta.agents;

import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * Which live agents (by their latest version) use a tool or a provider, so that removing one
 * that is in use can be refused instead of breaking those agents' next runs.
 */
public final class AgentReferences {
  private AgentReferences() {}

  public static List<String> agentsUsingTool(Handle h, String workspaceId, String toolName) {
    return h.createQuery("""
            SELECT a.name FROM agents a
            JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.current_version
            WHERE a.workspace_id = :w AND a.deleted_at IS NULL
              AND v.tools @> jsonb_build_array(cast(:name AS text))
            ORDER BY a.name""")
        .bind("w", workspaceId).bind("name", toolName)
        .mapTo(String.class).list();
  }

  public static List<String> agentsUsingProvider(Handle h, String workspaceId, String providerName) {
    return h.createQuery("""
            SELECT a.name FROM agents a
            JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.current_version
            WHERE a.workspace_id = :w AND a.deleted_at IS NULL AND v.model ->> 'provider' = :name
            ORDER BY a.name""")
        .bind("w", workspaceId).bind("name", providerName)
        .mapTo(String.class).list();
  }
}
