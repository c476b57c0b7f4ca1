package io.aryabhatta.db;

import io.aryabhatta.errors.DomainException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * Keeps names unique within a workspace among the rows of one table, with one 409 for a taken
 * name whether the check before a write finds it or a concurrent writer wins the race to the
 * table's unique index.
 */
public final class UniqueNames {
  private static final Pattern TABLE = Pattern.compile("^[a-z_]+$");

  private final String kind;
  private final String takenQuery;

  private UniqueNames(String table, String kind, boolean liveRowsOnly) {
    // The table name is spliced into SQL, so it must be a plain identifier written in code.
    if (!TABLE.matcher(table).matches()) {
      throw new IllegalArgumentException("not a table name: " + table);
    }
    this.kind = kind;
    this.takenQuery = "SELECT EXISTS (SELECT 1 FROM " + table + " WHERE workspace_id = :w AND name = :name"
        + (liveRowsOnly ? " AND deleted_at IS NULL" : "") + " AND id IS DISTINCT FROM :id)";
  }

  /**
   * Names unique among all of {@code table}'s rows of a workspace.
   *
   * @param kind what a row is, with its article, as messages say it: "a tool"
   */
  public static UniqueNames of(String table, String kind) {
    return new UniqueNames(table, kind, false);
  }

  /** Names unique among the rows not soft-deleted ({@code deleted_at IS NULL}): deleting frees a name. */
  public static UniqueNames ofLiveRows(String table, String kind) {
    return new UniqueNames(table, kind, true);
  }

  /** Throws the 409 when any row of the workspace has {@code name}. */
  public void ensureFree(Handle h, String workspaceId, String name) {
    ensureFree(h, workspaceId, name, null);
  }

  /** Throws the 409 when a row of the workspace other than {@code id} has {@code name}. */
  public void ensureFree(Handle h, String workspaceId, String name, String id) {
    boolean taken = h.createQuery(takenQuery)
        .bind("w", workspaceId).bind("name", name).bind("id", id)
        .mapTo(Boolean.class).one();
    if (taken) {
      throw taken(name);
    }
  }

  /** Runs {@code transaction}, which writes {@code name}; a unique violation becomes the 409. */
  public <T> T claim(String name, Supplier<T> transaction) {
    try {
      return transaction.get();
    } catch (RuntimeException e) {
      if (Constraints.isUniqueViolation(e)) {
        throw taken(name);
      }
      throw e;
    }
  }

  private DomainException.Conflict taken(String name) {
    return new DomainException.Conflict(kind + " named '" + name + "' already exists");
  }
}
