package io.aryabhatta.db;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.Update;

/**
 * Writes whose results nobody reads, sent to the database together. Inside
 * {@link #inTransaction}, the statements {@link #statement executed} on its handle are queued, and
 * the queue is sent with the commit, in one round trip, when the work is done (PostgreSQL runs
 * them in order, in the transaction; the first failure fails the transaction, as it would one
 * statement at a time). A read in the middle of the work must see the queued writes: call
 * {@link #sendQueued} before it, or {@linkplain Statement#readWithWrites send it with them}.
 * Elsewhere, a statement runs at once.
 */
public final class BatchedWrites {
  /** A named parameter, not a {@code ::type} cast. */
  private static final Pattern PARAMETER = Pattern.compile("(?<![:\\w]):([A-Za-z_]\\w*)");
  private static final ThreadLocal<Queue> OPEN = new ThreadLocal<>();
  /** The statements are constants of the code, so their renamed forms are few: kept, not recomputed. */
  private static final Map<String, String> RENAMED = new ConcurrentHashMap<>();

  private BatchedWrites() {}

  /**
   * Runs {@code work} in a transaction, queueing the statements it executes on its handle; the
   * queue is sent with the transaction's {@code COMMIT}, so the writes and the commit take one
   * round trip. (The driver's own commit then finds the transaction closed and sends nothing.)
   */
  public static <T> T inTransaction(Jdbi jdbi, Function<Handle, T> work) {
    return jdbi.inTransaction(h -> {
      Queue queue = new Queue(h);
      Queue outer = OPEN.get();
      OPEN.set(queue);
      try {
        T result = work.apply(h);
        queue.statements.add("COMMIT");
        queue.send();
        return result;
      } finally {
        OPEN.set(outer);
      }
    });
  }

  /** Sends the statements queued on {@code h}, if any, so that a read sees them. */
  public static void sendQueued(Handle h) {
    Queue queue = OPEN.get();
    if (queue != null && queue.h == h) {
      queue.send();
    }
  }

  public static Statement statement(Handle h, String sql) {
    return new Statement(h, sql);
  }

  /** One write: bind its parameters, then {@link #execute} it. */
  public static final class Statement {
    private final Handle h;
    private final String sql;
    private final Map<String, Object> bindings = new LinkedHashMap<>();

    private Statement(Handle h, String sql) {
      this.h = h;
      this.sql = sql;
    }

    public Statement bind(String name, Object value) {
      bindings.put(name, value);
      return this;
    }

    /** Runs now, or queues when inside {@link #inTransaction} on the same handle. */
    public void execute() {
      Queue queue = OPEN.get();
      if (queue != null && queue.h == h) {
        queue.add(this, null);
      } else {
        Update update = h.createUpdate(sql);
        bindings.forEach(update::bind);
        update.execute();
      }
    }

    /**
     * A query whose first row is wanted, sent like a write: it sees the writes queued before it,
     * and inside {@link #inTransaction} it takes no round trip of its own. Its row is there once
     * the queue has been sent (at the latest when the transaction commits).
     */
    public <T> Row<T> readWithWrites(RowMapper<T> mapper) {
      Row<T> row = new Row<>(mapper);
      Queue queue = OPEN.get();
      if (queue != null && queue.h == h) {
        queue.add(this, row);
      } else {
        row.value = h.createQuery(sql).bindMap(bindings).map(mapper).findFirst().orElse(null);
        row.read = true;
      }
      return row;
    }
  }

  /** The first row of a {@linkplain Statement#readWithWrites read sent with writes}. */
  public static final class Row<T> {
    private final RowMapper<T> mapper;
    private T value;
    private boolean read;

    private Row(RowMapper<T> mapper) {
      this.mapper = mapper;
    }

    private void take(ResultSet rs, StatementContext ctx) throws SQLException {
      value = rs != null && rs.next() ? mapper.map(rs, ctx) : null;
      read = true;
    }

    /** The row, or null if the query found none. */
    public T get() {
      if (!read) {
        throw new IllegalStateException("the read has not been sent yet");
      }
      return value;
    }
  }

  private static final class Queue {
    private final Handle h;
    private final List<String> statements = new ArrayList<>();
    private final Map<String, Object> bindings = new LinkedHashMap<>();
    /** The reads among the statements, by position. */
    private final Map<Integer, Row<?>> reads = new LinkedHashMap<>();

    Queue(Handle h) {
      this.h = h;
    }

    /** Its parameters are renamed, so that two statements' parameters cannot clash. */
    void add(Statement statement, Row<?> read) {
      String prefix = "s" + statements.size() + "_";
      if (read != null) {
        reads.put(statements.size(), read);
      }
      statements.add(RENAMED.computeIfAbsent(prefix + statement.sql,
          key -> PARAMETER.matcher(statement.sql).replaceAll(m -> ":" + prefix + m.group(1))));
      statement.bindings.forEach((name, value) -> bindings.put(prefix + name, value));
    }

    void send() {
      if (statements.isEmpty()) {
        return;
      }
      Update update = h.createUpdate(String.join(";\n", statements));
      bindings.forEach(update::bind);
      int count = statements.size();
      Map<Integer, Row<?>> rows = new LinkedHashMap<>(reads);
      statements.clear();
      bindings.clear();
      reads.clear();
      if (rows.isEmpty()) {
        update.execute();
      } else {
        update.execute((executed, ctx) -> readRows(executed.get(), ctx, count, rows));
      }
    }

    /** Each statement sent has one result, in order: the reads' are result sets. */
    private static Void readRows(PreparedStatement executed, StatementContext ctx, int count, Map<Integer, Row<?>> rows)
        throws SQLException {
      for (int i = 0; i < count; i++) {
        Row<?> row = rows.get(i);
        if (row != null) {
          row.take(executed.getResultSet(), ctx);
        }
        executed.getMoreResults();
      }
      return null;
    }
  }
}
