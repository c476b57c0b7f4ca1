package io.aryabhatta.workspaces;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.testing.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Valid keys are remembered briefly; revocations still take effect at once on this node. */
class RecentKeysTest {
  private final AtomicLong nanos = new AtomicLong();
  private Jdbi jdbi;
  private WorkspaceService workspaces;
  private Caller admin;

  @BeforeEach
  void freshDatabase() {
    jdbi = TestPostgres.freshMigratedJdbi();
    workspaces = new WorkspaceService(jdbi, new AuditLog(jdbi, Json.mapper()), new Ids(Clock.systemUTC()),
        new RecentKeys(nanos::get, RecentKeys.RECHECK_AFTER));
    admin = workspaces.authenticate(workspaces.ensureAdminKey(Optional.empty()).orElseThrow()).orElseThrow();
  }

  private WorkspaceService.CreatedKey memberKey() {
    return workspaces.createKey(admin, Workspace.DEFAULT_ID, "member");
  }

  private void revokeInTheDatabase(String keyId) {
    jdbi.useHandle(h -> h.createUpdate("UPDATE api_keys SET revoked_at = now() WHERE id = :id").bind("id", keyId)
        .execute());
  }

  private void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }

  @Test
  void key_revoked_through_this_node_fails_at_once_though_it_was_just_used() {
    WorkspaceService.CreatedKey key = memberKey();
    assertThat(workspaces.authenticate(key.key())).isPresent();

    workspaces.revokeKey(admin, key.id());

    assertThat(workspaces.authenticate(key.key())).isEmpty();
  }

  @Test
  void key_revoked_elsewhere_fails_once_the_recheck_interval_has_passed() {
    WorkspaceService.CreatedKey key = memberKey();
    assertThat(workspaces.authenticate(key.key())).isPresent();

    revokeInTheDatabase(key.id());
    advance(RecentKeys.RECHECK_AFTER);

    assertThat(workspaces.authenticate(key.key())).isEmpty();
    assertThat(workspaces.authenticate(key.key())).as("not remembered as valid again").isEmpty();
  }

  @Test
  void a_valid_key_is_answered_from_memory_within_the_interval() {
    WorkspaceService.CreatedKey key = memberKey();
    assertThat(workspaces.authenticate(key.key())).isPresent();

    revokeInTheDatabase(key.id());
    advance(RecentKeys.RECHECK_AFTER.minusMillis(1));

    assertThat(workspaces.authenticate(key.key())).as("within the documented bound").isPresent();
  }

  @Test
  void an_unknown_key_is_looked_up_every_time_so_a_new_key_works_at_once() {
    String unknown = ApiKeys.generate();
    assertThat(workspaces.authenticate(unknown)).isEmpty();

    WorkspaceService.CreatedKey created = memberKey();

    assertThat(workspaces.authenticate(created.key())).hasValueSatisfying(
        caller -> assertThat(caller.keyId()).isEqualTo(created.id()));
  }

  @Test
  void a_lookup_that_raced_with_a_revocation_is_not_remembered() {
    WorkspaceService.CreatedKey key = memberKey();
    RecentKeys recent = new RecentKeys(nanos::get, RecentKeys.RECHECK_AFTER);
    Caller caller = new Caller(key.id(), Workspace.DEFAULT_ID, key.prefix(), false);
    String hash = ApiKeys.hash(key.key());

    // The lookup read the key as valid, then a revocation committed before it returned.
    assertThat(recent.caller(hash, h -> {
      recent.forgetAll();
      return Optional.of(caller);
    })).isPresent();

    assertThat(recent.caller(hash, h -> Optional.empty())).as("looked up again").isEmpty();
  }
}
