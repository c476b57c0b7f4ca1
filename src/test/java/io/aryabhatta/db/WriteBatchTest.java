package io.aryabhatta.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aryabhatta.testing.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WriteBatchTest {
  static Jdbi jdbi;

  @BeforeAll
  static void database() {
    jdbi = Jdbi.create(TestPostgres.freshDataSource());
    jdbi.useHandle(h -> h.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)"));
  }

  private static List<String> bodies() {
    return jdbi.withHandle(h -> h.createQuery("SELECT body FROM notes ORDER BY id").mapTo(String.class).list());
  }

  @Test
  void a_read_sent_with_the_writes_sees_them_and_its_row_is_there_once_committed() {
    WriteBatch.Row<String> seen = WriteBatch.inTransaction(jdbi, w -> {
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 1).bind("body", "a")
          .execute();
      w.statement("UPDATE notes SET body = body || :more WHERE id = :id").bind("more", "b").bind("id", 1)
          .execute();
      WriteBatch.Row<String> row = w.statement("SELECT body || '!' FROM notes WHERE id = :id")
          .bind("id", 1).readWithWrites(rs -> rs.getString(1));
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 2).bind("body", "c")
          .execute();
      assertThatThrownBy(row::get).isInstanceOf(IllegalStateException.class);
      return row;
    });

    assertThat(seen.get()).isEqualTo("ab!");
    assertThat(bodies()).contains("ab", "c");
  }

  @Test
  void a_read_that_finds_nothing_gives_null_and_a_failing_write_loses_the_whole_transaction() {
    WriteBatch.Row<String> none = WriteBatch.inTransaction(jdbi, w ->
        w.statement("SELECT body FROM notes WHERE id = :id").bind("id", -1)
            .readWithWrites(rs -> rs.getString(1)));
    assertThat(none.get()).isNull();

    assertThatThrownBy(() -> WriteBatch.inTransaction(jdbi, w -> {
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 10).bind("body", "x")
          .execute();
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 10).bind("body", "y")
          .execute();
      return w.statement("SELECT body FROM notes WHERE id = :id").bind("id", 10)
          .readWithWrites(rs -> rs.getString(1));
    })).hasMessageContaining("duplicate key");
    assertThat(bodies()).doesNotContain("x", "y");
  }

  @Test
  void each_kind_of_value_is_bound_where_its_name_stands_and_an_unknown_kind_writes_nothing() {
    WriteBatch.Row<String> row = WriteBatch.inTransaction(jdbi, w -> {
      w.statement("""
              INSERT INTO notes (id, body)
              VALUES (:id, concat_ws('|', :text, :count, :big, :ratio, :flag, array_to_string(cast(:list AS text[]), ','),
                                   coalesce(:missing, 'null'), :text))""")
          .bind("id", 20).bind("text", "t").bind("count", 3).bind("big", 4_000_000_000L).bind("ratio", 0.5)
          .bind("flag", true).bind("list", new String[] {"a", "b"}).bind("missing", null)
          .execute();
      return w.statement("SELECT body FROM notes WHERE id = :id").bind("id", 20)
          .readWithWrites(rs -> rs.getString(1));
    });
    assertThat(row.get()).isEqualTo("t|3|4000000000|0.5|t|a,b|null|t");

    assertThatThrownBy(() -> WriteBatch.inTransaction(jdbi, w -> {
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 21).bind("body", "z")
          .execute();
      w.statement("UPDATE notes SET body = :when WHERE id = :id").bind("when", java.time.Instant.now())
          .bind("id", 21).execute();
      return null;
    })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.time.Instant");
    assertThat(bodies()).doesNotContain("z");

    assertThatThrownBy(() -> WriteBatch.inTransaction(jdbi, w -> {
      w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)").bind("id", 22).execute();
      return null;
    })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(":body");

    // In an immediate batch a statement runs at once, bound the same way.
    jdbi.useHandle(h -> WriteBatch.immediate(h).statement("""
            INSERT INTO notes (id, body) VALUES (:id, coalesce(:body, array_to_string(cast(:list AS text[]), ',')))""")
        .bind("id", 23).bind("body", null).bind("list", new String[] {"c", "d"}).execute());
    assertThat(bodies()).contains("c,d");
  }

  @Test
  void a_statement_sent_first_is_made_when_the_queue_is_sent_and_runs_before_everything_queued() {
    List<String> done = new ArrayList<>();
    WriteBatch.Row<String> row = WriteBatch.inTransaction(jdbi, w -> {
      w.sendFirst(() -> w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)")
          .bind("id", 30).bind("body", String.join("", done)));
      done.add("a");
      w.statement("UPDATE notes SET body = body || :more WHERE id = :id").bind("more", "+").bind("id", 30)
          .execute();
      WriteBatch.Row<String> read = w.statement("SELECT body FROM notes WHERE id = :id").bind("id", 30)
          .readWithWrites(rs -> rs.getString(1));
      done.add("b");
      return read;
    });
    assertThat(row.get()).isEqualTo("ab+");

    // Sent once, when the queue is first sent: a read in the middle takes it along.
    WriteBatch.inTransaction(jdbi, w -> {
      done.clear();
      w.sendFirst(() -> w.statement("INSERT INTO notes (id, body) VALUES (:id, :body)")
          .bind("id", 31).bind("body", "made with " + String.join("", done)));
      done.add("c");
      w.handleForReads();
      done.add("d");
      w.statement("UPDATE notes SET body = body || '.' WHERE id = :id").bind("id", 31).execute();
      return null;
    });
    assertThat(bodies()).contains("made with c.");

    assertThatThrownBy(() -> jdbi.useHandle(h -> WriteBatch.immediate(h).sendFirst(() -> null)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> WriteBatch.inTransaction(jdbi, w -> {
      w.sendFirst(() -> null);
      w.sendFirst(() -> null);
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }
}
