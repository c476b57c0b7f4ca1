package io.aryabhatta.workspaces;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.testing.TestPostgres;
import java.time.Clock;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin key: generated and returned once on first start, or taken from the environment. */
class AdminKeyTest {
  private Jdbi jdbi;
  private WorkspaceService workspaces;

  @BeforeEach
  void freshDatabase() {
    jdbi = TestPostgres.freshMigratedJdbi();
    workspaces = new WorkspaceService(jdbi, new AuditLog(jdbi, Json.mapper()), new Ids(Clock.systemUTC()));
  }

  private String storedKeys() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM api_keys").mapToMap().list()).toString();
  }

  @Test
  void generated_admin_key_is_returned_once_and_stored_hashed() {
    Optional<String> generated = workspaces.ensureAdminKey(Optional.empty());
    assertThat(generated).hasValueSatisfying(k -> assertThat(k).startsWith("ary_").hasSizeGreaterThan(40));
    String key = generated.orElseThrow();

    assertThat(workspaces.ensureAdminKey(Optional.empty())).as("second start").isEmpty();
    assertThat(workspaces.authenticate(key)).hasValueSatisfying(caller -> {
      assertThat(caller.admin()).isTrue();
      assertThat(caller.workspaceId()).isEqualTo(Workspace.DEFAULT_ID);
      assertThat(key).startsWith(caller.keyPrefix());
    });
    assertThat(storedKeys()).doesNotContain(key);
  }

  @Test
  void changes_by_a_generated_admin_key_are_audited_with_its_prefix_never_the_key() {
    String key = workspaces.ensureAdminKey(Optional.empty()).orElseThrow();
    Caller admin = workspaces.authenticate(key).orElseThrow();
    Workspace created = workspaces.createWorkspace(admin, "by-generated-key");
    workspaces.createKey(admin, created.id(), "member");

    var rows = jdbi.withHandle(h -> h.createQuery("SELECT actor, details::text AS details FROM audit_log "
        + "WHERE action IN ('workspace.created', 'key.created') AND actor <> 'system'").mapToMap().list());
    assertThat(rows).hasSize(4).allSatisfy(row -> assertThat(row.get("actor")).isEqualTo(admin.keyPrefix()));
    assertThat(admin.keyPrefix()).hasSize(12);
    assertThat(rows.toString()).doesNotContain(key);
  }

  @Test
  void admin_key_from_the_environment_replaces_a_generated_one() {
    String generated = workspaces.ensureAdminKey(Optional.empty()).orElseThrow();
    String configured = "my-own-admin-key-0123456789";

    assertThat(workspaces.ensureAdminKey(Optional.of(configured))).isEmpty();
    assertThat(workspaces.authenticate(configured)).hasValueSatisfying(c -> assertThat(c.admin()).isTrue());
    assertThat(workspaces.authenticate(generated)).as("revoked").isEmpty();
    assertThat(workspaces.ensureAdminKey(Optional.of(configured))).as("restart with the same key").isEmpty();
    assertThat(workspaces.authenticate(configured)).isPresent();
    assertThat(storedKeys()).doesNotContain(configured);
  }
}
