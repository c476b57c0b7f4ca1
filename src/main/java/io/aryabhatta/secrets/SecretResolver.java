package io.aryabhatta.secrets;

import java.util.Optional;

/** Looks up a workspace's secret value by name, decrypted, for injection into a request. */
@FunctionalInterface
public interface SecretResolver {
  Optional<String> resolve(String workspaceId, String name);
}
