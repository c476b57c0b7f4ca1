package io.aryabhatta.workspaces;

/**
 * Who is calling: the key's id, its workspace, the prefix shown in audit rows (never the key),
 * and whether it is the admin key.
 */
public record Caller(String keyId, String workspaceId, String keyPrefix, boolean admin) {}
