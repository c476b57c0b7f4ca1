package io.aryabhatta.workspaces;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.audit.AuditLog;

import io.aryabhatta.ids.Ids;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/** Workspaces and their API keys. */
public final class WorkspaceService {
  private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,63}$");

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final RecentKeys recentKeys;

  public WorkspaceService(Jdbi jdbi, AuditLog audit, Ids ids) {
    this(jdbi, audit, ids, new RecentKeys(System::nanoTime, RecentKeys.RECHECK_AFTER));
  }

  WorkspaceService(Jdbi jdbi, AuditLog audit, Ids ids, RecentKeys recentKeys) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.recentKeys = recentKeys;
  }

  /** A newly created key: the only moment the key itself is returned. */
  public record CreatedKey(String id, String workspaceId, String name, String prefix, String role, String key,
      java.time.Instant createdAt) {}

  /**
   * The caller a key belongs to, if it is valid. A key revoked through this node fails at once; one
   * revoked elsewhere within {@link RecentKeys#RECHECK_AFTER}.
   */
  public Optional<Caller> authenticate(String key) {
    return recentKeys.caller(ApiKeys.hash(key), hash -> jdbi.withHandle(h ->
        h.attach(WorkspaceDao.class).findActiveKeyByHash(hash)
            .map(k -> new Caller(k.id(), k.workspaceId(), k.prefix(), k.role().equals("admin")))));
  }

  /**
   * Makes sure an admin key exists: the configured one (older admin keys are revoked), or a new
   * one generated on first start, which is returned so that it can be printed once.
   */
  public Optional<String> ensureAdminKey(Optional<String> configured) {
    try {
      return ensureAdminKeyInTransaction(configured);
    } finally {
      recentKeys.forgetAll();
    }
  }

  private Optional<String> ensureAdminKeyInTransaction(Optional<String> configured) {
    return jdbi.inTransaction(h -> {
      h.execute("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE");
      WorkspaceDao dao = h.attach(WorkspaceDao.class);
      if (configured.isPresent()) {
        String hash = ApiKeys.hash(configured.get());
        dao.revokeAdminKeysExcept(hash);
        if (dao.findActiveKeyByHash(hash).isEmpty()) {
          String id = ids.next();
          dao.insertKey(id, Workspace.DEFAULT_ID, "admin (ARYABHATTA_ADMIN_KEY)", ApiKeys.prefix(configured.get()), hash,
              "admin");
          audit.record(h, Workspace.DEFAULT_ID, "system", "key.created", "api_key", id, Map.of("role", "admin"));
        }
        return Optional.empty();
      }
      if (dao.activeAdminKeyExists()) {
        return Optional.empty();
      }
      String key = ApiKeys.generate();
      String id = ids.next();
      dao.insertKey(id, Workspace.DEFAULT_ID, "admin (generated)", ApiKeys.prefix(key), ApiKeys.hash(key), "admin");
      audit.record(h, Workspace.DEFAULT_ID, "system", "key.created", "api_key", id, Map.of("role", "admin"));
      return Optional.of(key);
    });
  }

  public Workspace createWorkspace(Caller caller, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new DomainException.ValidationFailed("name", "must match ^[a-z0-9][a-z0-9_-]{0,63}$");
    }
    return jdbi.inTransaction(h -> {
      WorkspaceDao dao = h.attach(WorkspaceDao.class);
      String id = ids.next();
      if (dao.insert(id, name) == 0) {
        throw new DomainException.Conflict("a workspace named '" + name + "' already exists");
      }
      audit.record(h, caller, "workspace.created", "workspace", id, Map.of("name", name));
      audit.record(h, id, caller.keyPrefix(), "workspace.created", "workspace", id, Map.of("name", name));
      return dao.find(id).orElseThrow();
    });
  }

  public List<Workspace> listWorkspaces(String after, int limit) {
    return jdbi.onDemand(WorkspaceDao.class).list(after, limit);
  }

  public Workspace workspace(String id) {
    return jdbi.onDemand(WorkspaceDao.class).find(id).orElseThrow(() -> DomainException.NotFound.of("workspace", id));
  }

  public CreatedKey createKey(Caller caller, String workspaceId, String name) {
    String keyName = name == null || name.isBlank() ? "key" : name.strip();
    if (keyName.length() > 100) {
      throw new DomainException.ValidationFailed("name", "must be at most 100 characters");
    }
    return jdbi.inTransaction(h -> {
      WorkspaceDao dao = h.attach(WorkspaceDao.class);
      dao.find(workspaceId).orElseThrow(() -> DomainException.NotFound.of("workspace", workspaceId));
      String key = ApiKeys.generate();
      String id = ids.next();
      dao.insertKey(id, workspaceId, keyName, ApiKeys.prefix(key), ApiKeys.hash(key), "member");
      Map<String, String> details = Map.of("name", keyName, "prefix", ApiKeys.prefix(key));
      audit.record(h, caller, "key.created", "api_key", id, details);
      if (!workspaceId.equals(caller.workspaceId())) {
        audit.record(h, workspaceId, caller.keyPrefix(), "key.created", "api_key", id, details);
      }
      ApiKey stored = dao.findKey(id).orElseThrow();
      return new CreatedKey(id, workspaceId, keyName, stored.prefix(), stored.role(), key, stored.createdAt());
    });
  }

  public List<ApiKey> listKeys(String workspaceId, String after, int limit) {
    workspace(workspaceId);
    return jdbi.onDemand(WorkspaceDao.class).listKeys(workspaceId, after, limit);
  }

  public ApiKey revokeKey(Caller caller, String keyId) {
    try {
      return revokeKeyInTransaction(caller, keyId);
    } finally {
      recentKeys.forgetAll();
    }
  }

  private ApiKey revokeKeyInTransaction(Caller caller, String keyId) {
    return jdbi.inTransaction(h -> {
      WorkspaceDao dao = h.attach(WorkspaceDao.class);
      ApiKey key = dao.findKey(keyId).orElseThrow(() -> DomainException.NotFound.of("key", keyId));
      if (key.id().equals(caller.keyId())) {
        throw new DomainException.Conflict("a key cannot revoke itself; use another admin key");
      }
      if (dao.revoke(keyId) == 1) {
        Map<String, String> details = Map.of("prefix", key.prefix());
        audit.record(h, caller, "key.revoked", "api_key", keyId, details);
        if (!key.workspaceId().equals(caller.workspaceId())) {
          audit.record(h, key.workspaceId(), caller.keyPrefix(), "key.revoked", "api_key", keyId, details);
        }
      }
      return dao.findKey(keyId).orElseThrow();
    });
  }
}
