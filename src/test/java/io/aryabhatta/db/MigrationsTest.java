package io.aryabhatta.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class MigrationsTest {

  private static long migrationFiles() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("migrations"))) {
      return files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
    }
  }

  @Test
  void empty_database_gets_every_migration_then_none_on_the_second_run() throws Exception {
    var ds = TestPostgres.freshDataSource();
    Migrations migrations = new Migrations(ds);
    assertThat(migrations.upToDate()).isFalse();

    assertThat(migrations.apply()).isEqualTo(migrationFiles());
    assertThat(migrations.upToDate()).isTrue();
    assertThat(new Migrations(ds).apply()).isZero();

    String defaultWorkspace = Jdbi.create(ds).withHandle(h ->
        h.createQuery("SELECT name FROM workspaces WHERE id = 'default'").mapTo(String.class).one());
    assertThat(defaultWorkspace).isEqualTo("default");
  }

  @Test
  void a_run_status_a_step_type_or_a_message_role_it_does_not_know_is_refused() {
    var ds = TestPostgres.freshDataSource();
    new Migrations(ds).apply();
    Jdbi jdbi = Jdbi.create(ds);
    jdbi.useHandle(h -> h.execute("""
        INSERT INTO conversations (id, workspace_id, agent_id) VALUES ('c1', 'default', 'a1');
        INSERT INTO runs (id, workspace_id, conversation_id, agent_id, agent_version, system_prompt, status)
        VALUES ('r1', 'default', 'c1', 'a1', 1, '', 'queued')"""));

    assertThat(sqlStateOf(jdbi, "UPDATE runs SET status = 'paused' WHERE id = 'r1'")).isEqualTo("23514");
    assertThat(sqlStateOf(jdbi, "INSERT INTO run_steps (run_id, idx, type, status) VALUES ('r1', 0, 'sleep', 'started')"))
        .isEqualTo("23514");
    assertThat(sqlStateOf(jdbi, "INSERT INTO messages (conversation_id, seq, role) VALUES ('c1', 1, 'system')"))
        .isEqualTo("23514");
    // What the engine writes is taken, through a bound text parameter as it binds it.
    jdbi.useHandle(h -> {
      h.createUpdate("UPDATE runs SET status = :s WHERE id = 'r1' AND status IN (:from)")
          .bind("s", "running").bind("from", "queued").execute();
      h.createUpdate("INSERT INTO run_steps (run_id, idx, type, status) VALUES ('r1', 0, :t, 'started')")
          .bind("t", "llm_call").execute();
      h.createUpdate("INSERT INTO messages (conversation_id, seq, role) VALUES ('c1', 1, :r)").bind("r", "user").execute();
    });
    String status = jdbi.withHandle(h -> h.createQuery("SELECT status FROM runs WHERE id = 'r1'").mapTo(String.class).one());
    assertThat(status).isEqualTo("running");
  }

  private static String sqlStateOf(Jdbi jdbi, String sql) {
    try {
      jdbi.useHandle(h -> h.execute(sql));
      return null;
    } catch (RuntimeException e) {
      return DatabaseErrors.sqlState(e);
    }
  }

  @Test
  void server_starts_on_an_up_to_date_database_and_is_ready() {
    String url = TestPostgres.freshDatabase();
    try (TestServer first = TestServer.start(Map.of("DB_CONNECTION_STRING", url))) {
      assertThat(first.admin.post("/api/workspaces", Map.of("name", "kept")).status()).isEqualTo(201);
    }
    try (TestServer second = TestServer.start(Map.of("DB_CONNECTION_STRING", url))) {
      assertThat(second.anonymous().get("/ready").status()).isEqualTo(200);
      assertThat(second.admin.get("/api/workspaces").json().get("data"))
          .extracting(w -> w.get("name").asText())
          .containsExactlyInAnyOrder("default", "kept");
    }
  }
}
