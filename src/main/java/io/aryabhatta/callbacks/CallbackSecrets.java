package io.aryabhatta.callbacks;

import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.Rows;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.workspaces.Caller;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The key a workspace's callbacks are signed with, encrypted at rest like stored secrets. It is
 * created when the workspace's first callback is signed, and shown only by {@link #rotate}, which
 * replaces it: the value is in that one response and nowhere else (no log, audit row or event).
 */
public final class CallbackSecrets {
  private static final String PREFIX = "whsec_";
  private static final int RANDOM_BYTES = 32;

  private final Jdbi jdbi;
  private final SecretCipher cipher;
  private final AuditLog audit;
  private final SecureRandom random = new SecureRandom();

  public CallbackSecrets(Jdbi jdbi, SecretCipher cipher, AuditLog audit) {
    this.jdbi = jdbi;
    this.cipher = cipher;
    this.audit = audit;
  }

  /** A new secret, shown once: it replaces the workspace's secret, which signs the next attempts. */
  public record Rotated(String secret, Instant createdAt) {
    @Override
    public String toString() {
      return "Rotated[secret=***, createdAt=" + createdAt + "]";
    }
  }

  public Rotated rotate(Caller caller) {
    String secret = newSecret();
    SecretCipher.Sealed sealed = cipher.encrypt(secret, owner(caller.workspaceId()));
    Instant createdAt = jdbi.inTransaction(h -> {
      Instant at = h.createQuery("""
              INSERT INTO callback_secrets (workspace_id, nonce, ciphertext) VALUES (:w, :n, :c)
              ON CONFLICT (workspace_id) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                                                        created_at = now()
              RETURNING created_at""")
          .bind("w", caller.workspaceId()).bind("n", sealed.nonce()).bind("c", sealed.ciphertext())
          .map((rs, c) -> Rows.instant(rs, "created_at")).one();
      audit.record(h, caller, "callback_secret.rotated", "callback_secret", caller.workspaceId(), Map.of());
      return at;
    });
    return new Rotated(secret, createdAt);
  }

  /** The workspace's signing secret, created now if it has none yet. */
  String signingSecret(String workspaceId) {
    return jdbi.inTransaction(h -> {
      Optional<SecretCipher.Sealed> stored = read(h, workspaceId);
      if (stored.isPresent()) {
        return cipher.decrypt(stored.get(), owner(workspaceId));
      }
      SecretCipher.Sealed sealed = cipher.encrypt(newSecret(), owner(workspaceId));
      // Two first deliveries at once: one insert wins, and both sign with what it stored.
      h.createUpdate("""
              INSERT INTO callback_secrets (workspace_id, nonce, ciphertext) VALUES (:w, :n, :c)
              ON CONFLICT (workspace_id) DO NOTHING""")
          .bind("w", workspaceId).bind("n", sealed.nonce()).bind("c", sealed.ciphertext()).execute();
      return cipher.decrypt(read(h, workspaceId).orElseThrow(), owner(workspaceId));
    });
  }

  private static Optional<SecretCipher.Sealed> read(Handle h, String workspaceId) {
    return h.createQuery("SELECT nonce, ciphertext FROM callback_secrets WHERE workspace_id = :w")
        .bind("w", workspaceId)
        .map((rs, c) -> new SecretCipher.Sealed(rs.getBytes("nonce"), rs.getBytes("ciphertext")))
        .findOne();
  }

  private String newSecret() {
    byte[] bytes = new byte[RANDOM_BYTES];
    random.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Bound into the ciphertext, so that a value copied to another workspace's row does not decrypt. */
  private static String owner(String workspaceId) {
    return "callback-secret:" + workspaceId;
  }
}
