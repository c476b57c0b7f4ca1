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
