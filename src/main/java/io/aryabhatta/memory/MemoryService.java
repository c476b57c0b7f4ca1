package io.aryabhatta.memory;

import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.agents.MemoryBlockSpec;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.Rows;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.workspaces.Caller;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Memory blocks of an agent, one set per memory key (e.g. a user id): read into the system prompt
 * of each run of a conversation with that key, changed by the agent's memory tools or by a person
 * through the API. Every change is a new version, kept; a change made by a tool call carries the
 * call's idempotency key, so the call executed again after a crash changes nothing twice.
 */
public final class MemoryService {
  public static final int MAX_KEY_LENGTH = 200;

  private final Jdbi jdbi;
  private final AuditLog audit;

  public MemoryService(Jdbi jdbi, AuditLog audit) {
    this.jdbi = jdbi;
    this.audit = audit;
  }

  /** A block as it stands. */
  public record Block(String label, String value, int version, int limit, String description, Instant updatedAt) {}

  /** One version of a block: what it held, who changed it, when. */
  public record Version(int version, String value, String changedBy, Instant createdAt) {}

  public record Blocks(String agentId, String memoryKey, List<Block> blocks) {}

  /** What a change did: the block after it (or after the same change made before, for a call made again). */
  public record Changed(String label, String value, int version, boolean repeated) {}

  /** Refused changes, told to the model as the tool's error. */
  public static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  public static void checkKey(String memoryKey) {
    if (memoryKey != null && (memoryKey.isBlank() || memoryKey.length() > MAX_KEY_LENGTH)) {
      throw new DomainException.ValidationFailed("memory_key", "must be 1 to " + MAX_KEY_LENGTH + " characters");
    }
  }

  /** The agent version's blocks for {@code memoryKey}, each with its current value (empty if never written). */
  public Blocks blocks(AgentVersion agent, String memoryKey) {
    Map<String, Block> stored = new LinkedHashMap<>();
    jdbi.useHandle(h -> h.createQuery("""
            SELECT label, value, version, updated_at FROM memory_blocks
            WHERE agent_id = :a AND memory_key = :k""")
        .bind("a", agent.agentId()).bind("k", memoryKey)
        .map((rs, c) -> new Block(rs.getString("label"), rs.getString("value"), rs.getInt("version"), 0, null,
            Rows.instant(rs, "updated_at")))
        .forEach(b -> stored.put(b.label(), b)));
    return new Blocks(agent.agentId(), memoryKey, agent.memoryBlocks().stream().map(spec -> {
      Block b = stored.get(spec.label());
      return new Block(spec.label(), b == null ? "" : b.value(), b == null ? 0 : b.version(), spec.limitOrDefault(),
          spec.description(), b == null ? null : b.updatedAt());
    }).toList());
  }

  /**
   * The memory section appended to the system prompt of a run: each block with its label, limit
   * and value. Empty when the agent keeps no memory or the conversation has no memory key.
   */
  public String promptSection(AgentVersion agent, String memoryKey) {
    if (memoryKey == null || agent.memoryBlocks().isEmpty()) {
      return "";
    }
    StringBuilder text = new StringBuilder("\n\n## Memory\n\nWhat you keep about this user across conversations. "
        + "Change it only with memory_append and memory_replace; each block has a size limit.\n");
    for (Block block : blocks(agent, memoryKey).blocks()) {
      text.append("\n<memory_block label=\"").append(block.label()).append("\" chars=\"")
          .append(block.value().length()).append('/').append(block.limit()).append("\"");
      if (block.description() != null) {
        text.append(" description=\"").append(block.description().replace("\"", "'")).append("\"");
      }
      // A value cannot close its block early: what the agent saved stays inside it.
      text.append(">\n").append(block.value().replace("</memory_block", "<\\/memory_block"))
          .append("\n</memory_block>\n");
    }
    return text.toString();
  }

  public List<Version> versions(String workspaceId, AgentVersion agent, String memoryKey, String label) {
    spec(agent, label);
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT v.version, v.value, v.changed_by, v.created_at FROM memory_block_versions v
            JOIN memory_blocks b ON b.agent_id = v.agent_id AND b.memory_key = v.memory_key AND b.label = v.label
            WHERE v.agent_id = :a AND v.memory_key = :k AND v.label = :l AND b.workspace_id = :w
            ORDER BY v.version DESC""")
        .bind("a", agent.agentId()).bind("k", memoryKey).bind("l", label).bind("w", workspaceId)
        .map((rs, c) -> new Version(rs.getInt("version"), rs.getString("value"), rs.getString("changed_by"),
            Rows.instant(rs, "created_at")))
        .list());
  }

  /** A person sets a block through the API. */
  public Block set(Caller caller, AgentVersion agent, String memoryKey, String label, String value) {
    checkKey(memoryKey);
    MemoryBlockSpec spec = spec(agent, label);
    if (value == null) {
      throw new DomainException.ValidationFailed("value", "is required");
    }
    if (value.length() > spec.limitOrDefault()) {
      throw new DomainException.ValidationFailed("value", "is " + value.length() + " characters; the block holds at "
          + "most " + spec.limitOrDefault());
    }
    jdbi.useTransaction(h -> {
      write(h, caller.workspaceId(), agent.agentId(), memoryKey, label, value, "api:" + caller.keyPrefix(), null);
      audit.record(h, caller, "memory.changed", "agent", agent.agentId(), Map.of("memory_key", memoryKey,
          "label", label, "chars", value.length()));
    });
    return blocks(agent, memoryKey).blocks().stream().filter(b -> b.label().equals(label)).findFirst().orElseThrow();
  }

  /** {@code memory_append}: adds {@code text} on a new line at the end of the block. */
  Changed append(String workspaceId, AgentVersion agent, String memoryKey, String label, String text, String runId,
      String idempotencyKey) throws Refused {
    return change(workspaceId, agent, memoryKey, label, runId, idempotencyKey,
        current -> current.isEmpty() ? text : current + "\n" + text);
  }

  /** {@code memory_replace}: replaces the one occurrence of {@code old} in the block by {@code replacement}. */
  Changed replace(String workspaceId, AgentVersion agent, String memoryKey, String label, String old,
      String replacement, String runId, String idempotencyKey) throws Refused {
    return change(workspaceId, agent, memoryKey, label, runId, idempotencyKey, current -> {
      int at = current.indexOf(old);
      if (old.isEmpty() || at < 0) {
        throw new Refused("the block '" + label + "' does not contain the text to replace");
      }
      if (current.indexOf(old, at + 1) >= 0) {
        throw new Refused("the text to replace occurs more than once in '" + label + "'; quote more of it");
      }
      return current.substring(0, at) + replacement + current.substring(at + old.length());
    });
  }

  private interface Edit {
    String apply(String current) throws Refused;
  }

  private Changed change(String workspaceId, AgentVersion agent, String memoryKey, String label, String runId,
      String idempotencyKey, Edit edit) throws Refused {
    MemoryBlockSpec spec;
    try {
      spec = spec(agent, label);
    } catch (DomainException e) {
      throw new Refused(e.getMessage());
    }
    try {
      return jdbi.inTransaction(h -> {
        // The block's row exists before it is locked, so that two first writes queue on the lock
        // instead of both reading nothing; the call's earlier change is looked up under the lock.
        h.createUpdate("""
                INSERT INTO memory_blocks (workspace_id, agent_id, memory_key, label, value, version)
                VALUES (:w, :a, :k, :l, '', 0) ON CONFLICT (agent_id, memory_key, label) DO NOTHING""")
            .bind("w", workspaceId).bind("a", agent.agentId()).bind("k", memoryKey).bind("l", label).execute();
        String current = h.createQuery("""
                SELECT value FROM memory_blocks WHERE agent_id = :a AND memory_key = :k AND label = :l FOR UPDATE""")
            .bind("a", agent.agentId()).bind("k", memoryKey).bind("l", label).mapTo(String.class).one();
        Optional<Changed> before = h.createQuery("""
                SELECT label, value, version FROM memory_block_versions WHERE idempotency_key = :key""")
            .bind("key", idempotencyKey)
            .map((rs, c) -> new Changed(rs.getString("label"), rs.getString("value"), rs.getInt("version"), true))
            .findOne();
        if (before.isPresent()) {
          return before.get();
        }
        String next;
        try {
          next = edit.apply(current);
        } catch (Refused e) {
          throw new RefusedInTransaction(e);
        }
        if (next.length() > spec.limitOrDefault()) {
          throw new RefusedInTransaction(new Refused("the block '" + label + "' would hold " + next.length()
              + " characters, more than its limit of " + spec.limitOrDefault() + "; replace or shorten what it "
              + "holds first"));
        }
        int version = write(h, workspaceId, agent.agentId(), memoryKey, label, next, "run:" + runId, idempotencyKey);
        return new Changed(label, next, version, false);
      });
    } catch (RefusedInTransaction e) {
      throw e.refused;
    }
  }

  /** Carries a refusal out of the transaction, which it rolls back. */
  private static final class RefusedInTransaction extends RuntimeException {
    final Refused refused;

    RefusedInTransaction(Refused refused) {
      super(refused.getMessage(), null, false, false);
      this.refused = refused;
    }
  }

  private static int write(Handle h, String workspaceId, String agentId, String memoryKey, String label, String value,
      String changedBy, String idempotencyKey) {
    int version = h.createQuery("""
            INSERT INTO memory_blocks (workspace_id, agent_id, memory_key, label, value, version)
            VALUES (:w, :a, :k, :l, :v, 1)
            ON CONFLICT (agent_id, memory_key, label)
            DO UPDATE SET value = excluded.value, version = memory_blocks.version + 1, updated_at = now()
            RETURNING version""")
        .bind("w", workspaceId).bind("a", agentId).bind("k", memoryKey).bind("l", label).bind("v", value)
        .mapTo(Integer.class).one();
    h.createUpdate("""
            INSERT INTO memory_block_versions (agent_id, memory_key, label, version, value, changed_by, idempotency_key)
            VALUES (:a, :k, :l, :version, :v, :by, :key)""")
        .bind("a", agentId).bind("k", memoryKey).bind("l", label).bind("version", version).bind("v", value)
        .bind("by", changedBy).bind("key", idempotencyKey).execute();
    return version;
  }

  private static MemoryBlockSpec spec(AgentVersion agent, String label) {
    return agent.memoryBlocks().stream().filter(b -> b.label().equals(label)).findFirst()
        .orElseThrow(() -> DomainException.NotFound.of("memory block", label));
  }
}
