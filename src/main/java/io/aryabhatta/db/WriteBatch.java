package io.aryabhatta.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashMap;
import java.util.HashSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * The writes of one transaction, passed explicitly to whatever writes in it. A batch from
 * {@link #inTransaction} queues the statements {@link Statement#execute executed} in it and sends
 * the queue with the commit, in one round trip, when the work is done (PostgreSQL runs them in
 * order, in the transaction; the first failure fails the transaction, as it would one statement
 * at a time). A read sees the queued writes if it is {@linkplain Statement#readWithWrites sent
 * with them}, or if it reads through {@link #handleForReads}, which sends them first: there is no
 * other way to the handle. A batch from {@link #immediate} runs each statement at once, in its
 * caller's transaction.
 */
public final class WriteBatch {
  /** A named parameter, not a {@code ::type} cast. */
  private static final Pattern PARAMETER = Pattern.compile("(?<![:\\w]):([A-Za-z_]\\w*)");
  private static final Pattern JSON_PARAMETER =
      Pattern.compile("cast\\(:([A-Za-z_]\\w*) AS jsonb\\)", Pattern.CASE_INSENSITIVE);
  /** The statements are constants of the code, so their positional forms are few: kept, not recomputed. */
  private static final Map<String, Positional> POSITIONAL = new ConcurrentHashMap<>();

  private final Handle h;
  /** Null: each statement is sent at once. */
  private final Queue queue;
  /** What a writer keeps with its transaction (the journal: the events it numbers at the end), by kind. */
  private final Map<Class<?>, Object> kept = new HashMap<>();

  private WriteBatch(Handle h, Queue queue) {
    this.h = h;
    this.queue = queue;
  }

  /**
   * Runs {@code work} in a transaction of its own, queueing the statements it executes; the queue
   * is sent with the transaction's {@code COMMIT}, so the writes and the commit take one round
   * trip. (The driver's own commit then finds the transaction closed and sends nothing.)
   */
  public static <T> T inTransaction(Jdbi jdbi, Function<WriteBatch, T> work) {
    return jdbi.inTransaction(h -> {
      WriteBatch batch = new WriteBatch(h, new Queue(h));
      T result = work.apply(batch);
      batch.queue.statements.add("COMMIT");
      batch.queue.send();
      return result;
    });
  }

  /** Statements sent one by one, at once, in the transaction (if any) of {@code h}. */
  public static WriteBatch immediate(Handle h) {
    return new WriteBatch(h, null);
  }

  public Statement statement(String sql) {
    return new Statement(this, sql);
  }

  /** The transaction's handle, for a read: what is queued is sent first, so that the read sees it. */
  public Handle handleForReads() {
    if (queue != null) {
      queue.send();
    }
    return h;
  }

  /** Runs {@code action} once the transaction has committed (not at all if it rolls back). */
  public void afterCommit(Runnable action) {
    h.afterCommit(action);
  }

  /**
   * A statement made from what the work has done by the time the queue is first sent, and sent
   * ahead of everything queued (e.g. a fence that also records what the work adds up to). Only in
   * a batch from {@link #inTransaction}.
   */
  public void sendFirst(Supplier<Statement> make) {
    if (queue == null) {
      throw new IllegalStateException("a statement sent first outside a batched transaction");
    }
    if (queue.first != null) {
      throw new IllegalStateException("a transaction has one statement sent first");
    }
    queue.first = make;
  }

  /** Keeps {@code value} with this transaction, found again by its class. */
  public <T> void keep(Class<T> kind, T value) {
    kept.put(kind, value);
  }

  /** What was {@linkplain #keep kept} with this transaction as {@code kind}, or null. */
  public <T> T kept(Class<T> kind) {
    return kind.cast(kept.get(kind));
  }

  public void forget(Class<?> kind) {
    kept.remove(kind);
  }

  /** Whether the statements of this batch wait for the commit (false: each is sent at once). */
  public boolean queues() {
    return queue != null;
  }

  /** One write: bind its parameters, then {@link #execute} it. */
  public static final class Statement {
    private final WriteBatch batch;
    private final String sql;
    private final Map<String, Object> bindings = new LinkedHashMap<>();

    private Statement(WriteBatch batch, String sql) {
      this.batch = batch;
      this.sql = sql;
    }

    public Statement bind(String name, Object value) {
      bindings.put(name, value);
      return this;
    }

    /** Queued in a batch from {@link #inTransaction}; run at once in an {@link #immediate} one. */
    public void execute() {
      if (batch.queue != null) {
        batch.queue.add(this, null);
      } else {
        sendAlone(null);
      }
    }

    /**
     * A query whose first row is wanted, sent like a write: it sees the writes queued before it,
     * and inside {@link #inTransaction} it takes no round trip of its own. Its row is there once
     * the queue has been sent (at the latest when the transaction commits).
     */
    public <T> Row<T> readWithWrites(RowReader<T> reader) {
      Row<T> row = new Row<>(reader);
      if (batch.queue != null) {
        batch.queue.add(this, row);
      } else {
        sendAlone(row);
      }
      return row;
    }

    /** In an {@link #immediate} batch: sent at once, bound as a queued statement would be. */
    private void sendAlone(Row<?> row) {
      Queue alone = new Queue(batch.h);
      alone.add(this, row);
      alone.send();
    }
  }

  /** Reads a row of a result set; called with the set positioned on the row. */
  @FunctionalInterface
  public interface RowReader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /** The first row of a {@linkplain Statement#readWithWrites read sent with writes}. */
  public static final class Row<T> {
    private final RowReader<T> reader;
    private T value;
    private boolean read;

    private Row(RowReader<T> reader) {
      this.reader = reader;
    }

    private void take(ResultSet rs) throws SQLException {
      value = rs != null && rs.next() ? reader.read(rs) : null;
      read = true;
    }

    /** The row, or null if the query found none or has not been sent (its round trip failed). */
    public T orNull() {
      return read ? value : null;
    }

    /** The row, or null if the query found none. */
    public T get() {
      if (!read) {
        throw new IllegalStateException("the read has not been sent yet");
      }
      return value;
    }
  }

  /**
   * A statement with its named parameters made positional, their names in order, and which of
   * them are JSON texts ({@code cast(:name AS jsonb)}).
   */
  private record Positional(String sql, List<String> names, Set<String> json) {
    static Positional of(String sql) {
      List<String> names = new ArrayList<>();
      String positional = PARAMETER.matcher(sql).replaceAll(m -> {
        names.add(m.group(1));
        return "?";
      });
      Set<String> json = new HashSet<>();
      JSON_PARAMETER.matcher(sql).results().forEach(m -> json.add(m.group(1)));
      return new Positional(positional, List.copyOf(names), Set.copyOf(json));
    }
  }

  /**
   * The queued statements of one transaction. They are bound and sent with plain JDBC rather than
   * through JDBI: this is every step's path, and JDBI's per-parameter argument resolution was a
   * large share of the engine's CPU and allocation.
   */
  private static final class Queue {
    private final Handle h;
    private final List<String> statements = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();
    /** The reads among the statements, by position. */
    private final Map<Integer, Row<?>> reads = new LinkedHashMap<>();
    /** Made and put ahead of the others when the queue is first sent. */
    private Supplier<Statement> first;

    Queue(Handle h) {
      this.h = h;
    }

    void add(Statement statement, Row<?> read) {
      Positional positional = POSITIONAL.computeIfAbsent(statement.sql, Positional::of);
      values.addAll(valuesOf(statement, positional));
      if (read != null) {
        reads.put(statements.size(), read);
      }
      statements.add(positional.sql());
    }

    private void putFirst(Statement statement) {
      Positional positional = POSITIONAL.computeIfAbsent(statement.sql, Positional::of);
      values.addAll(0, valuesOf(statement, positional));
      statements.addFirst(positional.sql());
      Map<Integer, Row<?>> shifted = new LinkedHashMap<>();
      reads.forEach((position, read) -> shifted.put(position + 1, read));
      reads.clear();
      reads.putAll(shifted);
    }

    private static List<Object> valuesOf(Statement statement, Positional positional) {
      List<Object> bound = new ArrayList<>(positional.names().size());
      for (String name : positional.names()) {
        if (!statement.bindings.containsKey(name)) {
          throw new IllegalArgumentException("no value bound for :" + name + " in " + statement.sql);
        }
        Object value = statement.bindings.get(name);
        bound.add(value instanceof String text
            ? positional.json().contains(name) ? StorableText.json(text) : StorableText.text(text) : value);
      }
      return bound;
    }

    void send() {
      if (first != null) {
        Supplier<Statement> make = first;
        first = null;
        putFirst(make.get());
      }
      if (statements.isEmpty()) {
        return;
      }
      String sql = String.join(";\n", statements);
      int count = statements.size();
      List<Object> bound = new ArrayList<>(values);
      Map<Integer, Row<?>> rows = new LinkedHashMap<>(reads);
      statements.clear();
      values.clear();
      reads.clear();
      Connection connection = h.getConnection();
      try (PreparedStatement executed = connection.prepareStatement(sql)) {
        for (int i = 0; i < bound.size(); i++) {
          bind(connection, executed, i + 1, bound.get(i));
        }
        executed.execute();
        if (!rows.isEmpty()) {
          readRows(executed, count, rows);
        }
      } catch (SQLException e) {
        throw new UnableToExecuteStatementException(e.getMessage(), e, null);
      }
    }

    private static void bind(Connection connection, PreparedStatement executed, int index, Object value)
        throws SQLException {
      switch (value) {
        case null -> executed.setNull(index, Types.OTHER);
        case String text -> executed.setString(index, text);
        case Integer number -> executed.setInt(index, number);
        case Long number -> executed.setLong(index, number);
        case Double number -> executed.setDouble(index, number);
        case Boolean flag -> executed.setBoolean(index, flag);
        case String[] texts -> executed.setArray(index, connection.createArrayOf("text", texts));
        case WireName named -> executed.setString(index, named.wire());
        default -> throw new IllegalArgumentException("cannot bind a " + value.getClass().getName());
      }
    }

    /** Each statement sent has one result, in order: the reads' are result sets. */
    private static void readRows(PreparedStatement executed, int count, Map<Integer, Row<?>> rows)
        throws SQLException {
      for (int i = 0; i < count; i++) {
        Row<?> row = rows.get(i);
        if (row != null) {
          row.take(executed.getResultSet());
        }
        executed.getMoreResults();
      }
    }
  }
}
