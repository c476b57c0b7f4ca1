package io.aryabhatta.http;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.workspaces.Caller;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code Idempotency-Key} on creating POSTs: the same key with the same body returns the
 * first response and creates nothing new; with a different body it is a 422. The key is reserved
 * before the handler runs, so two concurrent requests with one key cannot both create.
 */
public final class Idempotency {
  public static final String HEADER = "Idempotency-Key";
  private static final ObjectMapper TREE = new ObjectMapper();

  private final Jdbi jdbi;
  private final JsonBody body;

  public Idempotency(Jdbi jdbi, JsonBody body) {
    this.jdbi = jdbi;
    this.body = body;
  }

  private record Stored(String requestHash, Integer status, String responseBody) {}

  public Handler wrap(Handler handler) {
    return wrap(handler, null);
  }

  /**
   * Like {@link #wrap(Handler)} for a response that carries a secret shown only once (a new API
   * key): the stored copy has {@code secretField} set to null, so the secret is never stored in
   * clear and a replay confirms the creation without repeating it.
   */
  public Handler wrap(Handler handler, String secretField) {
    return ctx -> {
      String key = ctx.header(HEADER);
      if (key == null || key.isBlank()) {
        handler.handle(ctx);
        return;
      }
      if (key.length() > 255) {
        throw new DomainException.ValidationFailed(HEADER, "must be at most 255 characters");
      }
      Caller caller = Auth.caller(ctx);
      String scope = ctx.method().name() + " " + ctx.path();
      String hash = sha256(body.bytes(ctx));
      if (!reserve(caller.workspaceId(), scope, key, hash)) {
        replay(ctx, find(caller.workspaceId(), scope, key).orElseThrow(), hash);
        return;
      }
      boolean stored = false;
      try {
        handler.handle(ctx);
        // A streamed answer has no body to replay; its key is released like a failed request's.
        if (ctx.status().getCode() < 300 && ctx.result() != null) {
          store(caller.workspaceId(), scope, key, ctx.status().getCode(), withoutSecret(ctx.result(), secretField));
          stored = true;
        }
      } finally {
        if (!stored) {
          release(caller.workspaceId(), scope, key);
        }
      }
    };
  }

  private void replay(Context ctx, Stored stored, String hash) {
    if (!stored.requestHash().equals(hash)) {
      throw new DomainException.Unprocessable("idempotency-key-reused",
          "this Idempotency-Key was already used with a different request body");
    }
    if (stored.status() == null) {
      throw new DomainException.Conflict("a request with this Idempotency-Key is still in progress");
    }
    ctx.header("Idempotent-Replayed", "true");
    ctx.status(stored.status()).contentType("application/json").result(stored.responseBody());
  }

  private boolean reserve(String workspace, String scope, String key, String hash) {
    return jdbi.withHandle(h -> h.createUpdate("""
            INSERT INTO idempotency_keys (workspace_id, scope, key, request_hash)
            VALUES (:w, :s, :k, :h) ON CONFLICT DO NOTHING""")
        .bind("w", workspace).bind("s", scope).bind("k", key).bind("h", hash)
        .execute()) == 1;
  }

  private Optional<Stored> find(String workspace, String scope, String key) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT request_hash, status, response_body FROM idempotency_keys
            WHERE workspace_id = :w AND scope = :s AND key = :k""")
        .bind("w", workspace).bind("s", scope).bind("k", key)
        .map((rs, c) -> new Stored(rs.getString(1), (Integer) rs.getObject(2), rs.getString(3)))
        .findOne());
  }

  private void store(String workspace, String scope, String key, int status, String response) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE idempotency_keys SET status = :st, response_body = :b
            WHERE workspace_id = :w AND scope = :s AND key = :k""")
        .bind("st", status).bind("b", response)
        .bind("w", workspace).bind("s", scope).bind("k", key)
        .execute());
  }

  private void release(String workspace, String scope, String key) {
    jdbi.useHandle(h -> h.createUpdate("""
            DELETE FROM idempotency_keys WHERE workspace_id = :w AND scope = :s AND key = :k AND status IS NULL""")
        .bind("w", workspace).bind("s", scope).bind("k", key)
        .execute());
  }

  private static String withoutSecret(String response, String secretField) {
    if (secretField == null || response == null) {
      return response;
    }
    try {
      JsonNode tree = TREE.readTree(response);
      if (tree instanceof ObjectNode object && object.has(secretField)) {
        object.putNull(secretField);
      }
      return TREE.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a created resource's response is not JSON", e);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
