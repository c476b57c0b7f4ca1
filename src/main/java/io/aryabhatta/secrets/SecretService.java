package io.aryabhatta.secrets;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.config.ConfigException;

import io.aryabhatta.workspaces.Caller;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.reflect.ConstructorMapper;

/**
 * Write-only secrets of a workspace, encrypted at rest. Values leave this class only through
 * {@link #resolve}, for injection into an outgoing request; audit rows carry the name only.
 */
public final class SecretService implements SecretResolver {
  public static final Pattern NAME = Pattern.compile("^[A-Z0-9_]{1,64}$");
  static final int MAX_VALUE_LENGTH = 65_536;
  private static final String KEY_CHECK_VALUE = "aryabhatta-secret-key-check";

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final SecretCipher cipher;

  public SecretService(Jdbi jdbi, AuditLog audit, SecretCipher cipher) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.cipher = cipher;
  }

  /** The outcome of {@link #put}: the secret, and whether it was new or replaced a value. */
  public record Saved(Secret secret, boolean created) {}

  private final AtomicLong changes = new AtomicLong();

  /** How many times a secret was written or deleted through this process (readers that keep values compare it). */
  public long changes() {
    return changes.get();
  }

  /**
   * Refuses to start with a key other than the one this database's secrets were encrypted with;
   * the first start records a check value encrypted with the current key.
   */
  public void verifyKey() {
    jdbi.useTransaction(h -> {
      Optional<SecretCipher.Sealed> check = h.createQuery("SELECT nonce, ciphertext FROM secret_key_check WHERE id = 1")
          .map((rs, ctx) -> new SecretCipher.Sealed(rs.getBytes("nonce"), rs.getBytes("ciphertext")))
          .findOne();
      if (check.isEmpty()) {
        SecretCipher.Sealed sealed = cipher.encrypt(KEY_CHECK_VALUE, "key-check");
        h.createUpdate("INSERT INTO secret_key_check (id, nonce, ciphertext) VALUES (1, :n, :c) ON CONFLICT DO NOTHING")
            .bind("n", sealed.nonce()).bind("c", sealed.ciphertext()).execute();
        return;
      }
      try {
        cipher.decrypt(check.get(), "key-check");
      } catch (SecretCipher.UndecryptableException e) {
        throw new ConfigException(SecretKeys.VARIABLE, "is not the key this database's secrets were encrypted with; "
            + "set the original key (or restore <ARYABHATTA_DATA_DIR>/" + SecretKeys.FILE_NAME + ")");
      }
    });
  }

  /**
   * Stores {@code value} under {@code name}, replacing the value of an existing secret of that
   * name (key rotation is a POST with the same name).
   */
  public Saved put(Caller caller, String name, String value) {
    List<FieldError> errors = new ArrayList<>();
    if (name == null || !NAME.matcher(name).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    if (value == null || value.isEmpty()) {
      errors.add(new FieldError("value", "is required"));
    } else if (value.length() > MAX_VALUE_LENGTH) {
      errors.add(new FieldError("value", "must be at most " + MAX_VALUE_LENGTH + " characters"));
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    SecretCipher.Sealed sealed = cipher.encrypt(value, owner(caller.workspaceId(), name));
    Saved stored = jdbi.inTransaction(h -> {
      Saved saved = h.createQuery("""
              INSERT INTO secrets (workspace_id, name, nonce, ciphertext) VALUES (:w, :name, :nonce, :ciphertext)
              ON CONFLICT (workspace_id, name) DO UPDATE
                SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = now()
              RETURNING name, created_at, updated_at, (xmax = 0) AS inserted""")
          .bind("w", caller.workspaceId()).bind("name", name)
          .bind("nonce", sealed.nonce()).bind("ciphertext", sealed.ciphertext())
          .map((rs, ctx) -> new Saved(ConstructorMapper.of(Secret.class).map(rs, ctx), rs.getBoolean("inserted")))
          .one();
      audit.record(h, caller, saved.created() ? "secret.created" : "secret.updated", "secret", name,
          Map.of("name", name));
      return saved;
    });
    changes.incrementAndGet();
    return stored;
  }

  /** One page of the workspace's secrets (names and timestamps), ordered by name. */
  public List<Secret> list(String workspaceId, String afterName, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT name, created_at, updated_at FROM secrets
            WHERE workspace_id = :w AND (cast(:after AS text) IS NULL OR name > :after)
            ORDER BY name LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterName).bind("limit", limit)
        .map(ConstructorMapper.of(Secret.class))
        .list());
  }

  /**
   * Deletes a secret. A secret still referenced by a tool or a provider is a 409: deleting it
   * would break them silently.
   */
  public void delete(Caller caller, String name) {
    jdbi.useTransaction(h -> {
      boolean exists = h.createQuery("SELECT EXISTS (SELECT 1 FROM secrets WHERE workspace_id = :w AND name = :n)")
          .bind("w", caller.workspaceId()).bind("n", name).mapTo(Boolean.class).one();
      if (!exists) {
        throw new DomainException.NotFound("no secret named '" + name + "'");
      }
      List<String> users = usersOf(h, caller.workspaceId(), name);
      if (!users.isEmpty()) {
        throw new DomainException.Conflict("secret '" + name + "' is still referenced by " + String.join(", ", users)
            + "; change those first");
      }
      h.createUpdate("DELETE FROM secrets WHERE workspace_id = :w AND name = :n")
          .bind("w", caller.workspaceId()).bind("n", name).execute();
      audit.record(h, caller, "secret.deleted", "secret", name, Map.of("name", name));
    });
    changes.incrementAndGet();
  }

  /** The names among {@code names} that are not secrets of the workspace. */
  public Set<String> missing(String workspaceId, Collection<String> names) {
    if (names.isEmpty()) {
      return Set.of();
    }
    Set<String> existing = new LinkedHashSet<>(jdbi.withHandle(h -> h.createQuery("""
            SELECT name FROM secrets WHERE workspace_id = :w AND name = ANY(:names)""")
        .bind("w", workspaceId).bind("names", names.toArray(String[]::new))
        .mapTo(String.class).list()));
    Set<String> missing = new LinkedHashSet<>(names);
    missing.removeAll(existing);
    return missing;
  }

  /** The decrypted value of a workspace's secret, for injection into an outgoing request. */
  @Override
  public Optional<String> resolve(String workspaceId, String name) {
    return jdbi.withHandle(h -> h.createQuery("SELECT nonce, ciphertext FROM secrets WHERE workspace_id = :w AND name = :n")
            .bind("w", workspaceId).bind("n", name)
            .map((rs, ctx) -> new SecretCipher.Sealed(rs.getBytes("nonce"), rs.getBytes("ciphertext")))
            .findOne())
        .map(sealed -> cipher.decrypt(sealed, owner(workspaceId, name)));
  }

  private List<String> usersOf(Handle h, String workspaceId, String name) {
    List<String> users = new ArrayList<>();
    // Templates hold references as plain text, so the stored JSON text can be scanned as is.
    h.createQuery("SELECT name, http::text AS http FROM tools WHERE workspace_id = :w AND http IS NOT NULL ORDER BY name")
        .bind("w", workspaceId)
        .map((rs, ctx) -> Map.entry(rs.getString("name"), rs.getString("http")))
        .forEach(tool -> {
          if (SecretReferences.in(tool.getValue()).contains(name)) {
            users.add("tool '" + tool.getKey() + "'");
          }
        });
    h.createQuery("""
            SELECT name, coalesce(api_key_secret, '') AS key, default_headers::text AS headers
            FROM providers WHERE workspace_id = :w ORDER BY name""")
        .bind("w", workspaceId)
        .map((rs, ctx) -> new String[] {rs.getString("name"), rs.getString("key"), rs.getString("headers")})
        .forEach(p -> {
          if (p[1].equals(name) || SecretReferences.in(p[2]).contains(name)) {
            users.add("provider '" + p[0] + "'");
          }
        });
    h.createQuery("SELECT name, headers::text AS headers FROM mcp_servers WHERE workspace_id = :w ORDER BY name")
        .bind("w", workspaceId)
        .map((rs, ctx) -> Map.entry(rs.getString("name"), rs.getString("headers")))
        .forEach(server -> {
          if (SecretReferences.in(server.getValue()).contains(name)) {
            users.add("MCP server '" + server.getKey() + "'");
          }
        });
    return users;
  }

  private static String owner(String workspaceId, String name) {
    return workspaceId + "/" + name;
  }
}
