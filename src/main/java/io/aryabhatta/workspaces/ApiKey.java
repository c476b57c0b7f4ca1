package io.aryabhatta.workspaces;

import java.time.Instant;

/** A stored key as it may be shown: its prefix, never the key or its hash. */
public record ApiKey(String id, String workspaceId, String name, String prefix, String role, Instant createdAt,
    Instant revokedAt) {}
