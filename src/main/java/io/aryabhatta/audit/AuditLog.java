package io.aryabhatta.audit;

import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.db.Rows;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.workspaces.Caller;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Writes and reads the append-only audit log. Writers pass the {@link Handle} of the transaction
 * that makes the change, so a change and its audit row commit together.
 */
public final class AuditLog {
  private final Jdbi jdbi;
  private final ObjectMapper mapper;

  public AuditLog(Jdbi jdbi, ObjectMapper mapper) {
    this.jdbi = jdbi;
    this.mapper = mapper;
  }

  /** An audit row written at once, in the transaction of {@code handle}. */
  public void record(Handle handle, String workspaceId, String actor, String action, String resourceType,
      String resourceId, Map<String, ?> details) {
    record(WriteBatch.immediate(handle), workspaceId, actor, action, resourceType, resourceId, details);
  }

  /** An audit row of an action of {@code caller}, written at once, in the transaction of {@code handle}. */
  public void record(Handle handle, Caller caller, String action, String resourceType, String resourceId,
      Map<String, ?> details) {
    record(WriteBatch.immediate(handle), caller.workspaceId(), caller.keyPrefix(), action, resourceType, resourceId,
        details);
  }

  /** An audit row among the writes of {@code batch}, sent with them. */
  public void record(WriteBatch batch, String workspaceId, String actor, String action, String resourceType,
      String resourceId, Map<String, ?> details) {
    batch.statement("""
            INSERT INTO audit_log (workspace_id, actor, action, resource_type, resource_id, details)
            VALUES (:workspace, :actor, :action, :type, :id, cast(:details AS jsonb))""")
        .bind("workspace", workspaceId)
        .bind("actor", actor)
        .bind("action", action)
        .bind("type", resourceType)
        .bind("id", resourceId)
        .bind("details", Json.write(mapper, details))
        .execute();
  }

  /** A filtered page of the caller's workspace's log, oldest first. */
  public List<AuditEntry> list(String workspaceId, Filter filter, Long afterId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, at, actor, action, resource_type, resource_id, details::text AS details
            FROM audit_log
            WHERE workspace_id = :workspace
              AND (cast(:type AS text) IS NULL OR resource_type = :type)
              AND (cast(:resourceId AS text) IS NULL OR resource_id = :resourceId)
              AND (cast(:action AS text) IS NULL OR action = :action)
              AND (cast(:since AS timestamptz) IS NULL OR at >= :since)
              AND (cast(:until AS timestamptz) IS NULL OR at < :until)
              AND (cast(:after AS bigint) IS NULL OR id > :after)
            ORDER BY id
            LIMIT :limit""")
        .bind("workspace", workspaceId)
        .bind("type", filter.resourceType())
        .bind("resourceId", filter.resourceId())
        .bind("action", filter.action())
        .bind("since", filter.since())
        .bind("until", filter.until())
        .bind("after", afterId)
        .bind("limit", limit)
        .map((rs, ctx) -> new AuditEntry(
            rs.getLong("id"),
            Rows.instant(rs, "at"),
            rs.getString("actor"),
            rs.getString("action"),
            rs.getString("resource_type"),
            rs.getString("resource_id"),
            parse(rs.getString("details"))))
        .list());
  }

  private JsonNode parse(String details) {
    return Json.read(mapper, details);
  }

  public record Filter(String resourceType, String resourceId, String action, Instant since, Instant until) {}
}
