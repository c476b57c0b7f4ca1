package io.aryabhatta.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** One append-only audit row: who (key prefix) did what to which resource. */
public record AuditEntry(long id, Instant at, String actor, String action, String resourceType, String resourceId,
    JsonNode details) {}
