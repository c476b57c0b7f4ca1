package io.aryabhatta.workspaces;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

@RegisterConstructorMapper(Workspace.class)
@RegisterConstructorMapper(ApiKey.class)
public interface WorkspaceDao {
  /** Returns 0 when the name is taken, also by a concurrent insert. */
  @SqlUpdate("INSERT INTO workspaces (id, name) VALUES (:id, :name) ON CONFLICT (name) DO NOTHING")
  int insert(@Bind("id") String id, @Bind("name") String name);

  @SqlQuery("SELECT * FROM workspaces WHERE id = :id")
  Optional<Workspace> find(@Bind("id") String id);

  @SqlQuery("SELECT * FROM workspaces WHERE (:after IS NULL OR id > :after) ORDER BY id LIMIT :limit")
  List<Workspace> list(@Bind("after") String after, @Bind("limit") int limit);

  @SqlUpdate("""
      INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, role)
      VALUES (:id, :workspaceId, :name, :prefix, :hash, :role)""")
  void insertKey(@Bind("id") String id, @Bind("workspaceId") String workspaceId, @Bind("name") String name,
      @Bind("prefix") String prefix, @Bind("hash") String hash, @Bind("role") String role);

  @SqlQuery("SELECT id, workspace_id, name, prefix, role, created_at, revoked_at FROM api_keys WHERE id = :id")
  Optional<ApiKey> findKey(@Bind("id") String id);

  @SqlQuery("""
      SELECT id, workspace_id, name, prefix, role, created_at, revoked_at FROM api_keys
      WHERE key_hash = :hash AND revoked_at IS NULL""")
  Optional<ApiKey> findActiveKeyByHash(@Bind("hash") String hash);

  @SqlQuery("""
      SELECT id, workspace_id, name, prefix, role, created_at, revoked_at FROM api_keys
      WHERE workspace_id = :workspaceId AND (:after IS NULL OR id > :after) ORDER BY id LIMIT :limit""")
  List<ApiKey> listKeys(@Bind("workspaceId") String workspaceId, @Bind("after") String after, @Bind("limit") int limit);

  @SqlQuery("SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)")
  boolean activeAdminKeyExists();

  @SqlUpdate("UPDATE api_keys SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL")
  int revoke(@Bind("id") String id);

  @SqlUpdate("UPDATE api_keys SET revoked_at = now() WHERE role = 'admin' AND revoked_at IS NULL AND key_hash <> :keep")
  int revokeAdminKeysExcept(@Bind("keep") String keepHash);
}
