package io.aryabhatta.triggers;

import static io.aryabhatta.testing.FakeModelServer.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.testing.AgentSetup;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.Http;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.TestServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Schedules on two nodes of one database: one run per tick, pause, missed ticks. */
class ScheduleTriggersTest {
  static FakeModelServer fake;
  static String database;
  static Jdbi jdbi;
  final List<TestServer> nodes = new ArrayList<>();

  @BeforeAll
  static void startModel() {
    fake = FakeModelServer.start();
    fake.respondWith(request -> text("tick noted"));
  }

  @BeforeEach
  void freshDatabase() {
    database = TestPostgres.freshDatabase();
    jdbi = Jdbi.create(database);
  }

  @AfterAll
  static void stopModel() {
    fake.close();
  }

  @AfterEach
  void stopNodes() {
    nodes.forEach(TestServer::close);
  }

  TestServer node() {
    TestServer node = TestServer.start(Map.of("DB_CONNECTION_STRING", database));
    nodes.add(node);
    return node;
  }

  static String agent(Http api) {
    return new AgentSetup(api, fake).agent(List.of(), Map.of());
  }

  static String schedule(Http api, String agentId, String cron, String missed) {
    Http.Response created = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "schedule",
        "cron", cron, "time_zone", "Europe/Berlin", "missed", missed,
        "input_template", "Scheduled at {{payload.scheduled_at}}"));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    assertThat(created.json().get("secret").isNull()).isTrue();
    return created.json().get("id").asText();
  }

  static int runs(String triggerId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM runs WHERE trigger_id = :t")
        .bind("t", triggerId).mapTo(Integer.class).one());
  }

  static List<Instant> ticks(String triggerId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT tick_at FROM schedule_ticks WHERE trigger_id = :t ORDER BY tick_at")
        .bind("t", triggerId).mapTo(Instant.class).list());
  }

  @Test
  void two_nodes_start_exactly_one_run_per_tick_until_paused() {
    Http a = node().admin;
    node();
    String agentId = agent(a);
    String id = schedule(a, agentId, "* * * * * *", "skip");

    JsonNode shown = a.get("/api/triggers/" + id).json();
    List<Instant> next = new ArrayList<>();
    shown.get("next_fire_times").forEach(t -> next.add(Instant.parse(t.asText())));
    assertThat(next).hasSize(5);
    for (int i = 1; i < next.size(); i++) {
      assertThat(Duration.between(next.get(i - 1), next.get(i))).isEqualTo(Duration.ofSeconds(1));
    }

    awaitTicks(id, 5, Duration.ofSeconds(30));
    JsonNode paused = a.post("/api/triggers/" + id + "/pause", Map.of()).json();
    assertThat(paused.get("state").asText()).isEqualTo("paused");
    assertThat(paused.get("next_fire_times")).isEmpty();
    AgentSetup.sleep(500);

    List<Instant> ticks = ticks(id);
    assertThat(runs(id)).isEqualTo(ticks.size());
    for (int i = 1; i < ticks.size(); i++) {
      assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as("ticks %s", ticks)
          .isEqualTo(Duration.ofSeconds(1));
    }
    int afterPause = runs(id);
    AgentSetup.sleep(2500);
    assertThat(runs(id)).isEqualTo(afterPause);

    a.post("/api/triggers/" + id + "/resume", Map.of());
    awaitTicks(id, afterPause + 2, Duration.ofSeconds(30));
    a.post("/api/triggers/" + id + "/pause", Map.of());
    AgentSetup.sleep(500);
    assertThat(runs(id)).isEqualTo(ticks(id).size());
    String oneRun = jdbi.withHandle(h -> h.createQuery("SELECT run_id FROM schedule_ticks WHERE trigger_id = :t LIMIT 1")
        .bind("t", id).mapTo(String.class).one());
    JsonNode run = a.get("/api/runs/" + oneRun).json();
    assertThat(run.get("trigger_id").asText()).isEqualTo(id);
  }

  @Test
  void many_tickers_on_two_nodes_firing_one_due_tick_at_once_start_one_run() throws Exception {
    TestServer a = node();
    TestServer b = node();
    String agentId = agent(a.admin);
    String id = schedule(a.admin, agentId, "0 9 1 1 *", "run_once");
    List<ScheduleTicker> tickers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      tickers.add(new ScheduleTicker((i % 2 == 0 ? a : b).server().triggers(), Clock.systemUTC(),
          Duration.ofSeconds(1)));
    }

    int rounds = 5;
    for (int round = 1; round <= rounds; round++) {
      int hoursAgo = round;
      jdbi.useHandle(h -> h.createUpdate(
              "UPDATE triggers SET next_fire_at = now() - make_interval(hours => :h) WHERE id = :id")
          .bind("h", hoursAgo).bind("id", id).execute());
      CountDownLatch go = new CountDownLatch(1);
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> fired = new ArrayList<>();
        for (ScheduleTicker ticker : tickers) {
          fired.add(pool.submit(() -> {
            go.await();
            ticker.fireDue();
            return null;
          }));
        }
        go.countDown();
        for (Future<?> f : fired) {
          f.get();
        }
      }
      assertThat(runs(id)).as("round %d", round).isEqualTo(round);
    }
    assertThat(ticks(id)).hasSize(rounds);
  }

  @Test
  void a_run_once_schedule_fires_once_late_for_the_ticks_missed_while_every_node_was_down() {
    TestServer first = node();
    String agentId = agent(first.admin);
    String id = schedule(first.admin, agentId, "* * * * * *", "run_once");
    awaitTicks(id, 2, Duration.ofSeconds(30));
    first.close();
    nodes.remove(first);
    List<Instant> firedBefore = ticks(id);
    Instant lastBeforeDown = firedBefore.get(firedBefore.size() - 1);
    AgentSetup.sleep(ScheduleTicker.ON_TIME.toMillis() + 2000);
    int beforeRestart = firedBefore.size();

    Instant back = Instant.now();
    TestServer again = node();
    awaitTicks(id, beforeRestart + 3, Duration.ofSeconds(30));
    again.admin.post("/api/triggers/" + id + "/pause", Map.of());

    List<Instant> missedWhileDown = ticks(id).stream()
        .filter(t -> t.isAfter(lastBeforeDown) && t.isBefore(back)).toList();
    assertThat(missedWhileDown).as("ticks %s", ticks(id)).hasSize(1);
    assertThat(runs(id)).isEqualTo(ticks(id).size());
  }

  @Test
  void a_skipping_schedule_starts_nothing_for_missed_ticks_and_goes_on_from_now() {
    Http api = node().admin;
    String agentId = agent(api);
    String id = schedule(api, agentId, "0 9 1 1 *", "skip");
    String runOnce = schedule(api, agentId, "0 9 1 1 *", "run_once");
    jdbi.useHandle(h -> h.createUpdate(
            "UPDATE triggers SET next_fire_at = now() - interval '3 hours' WHERE id IN (<ids>)")
        .bindList("ids", List.of(id, runOnce)).execute());

    awaitTicks(runOnce, 1, Duration.ofSeconds(30));
    AgentSetup.sleep(2000);

    assertThat(runs(id)).isZero();
    assertThat(runs(runOnce)).isEqualTo(1);
    for (String t : List.of(id, runOnce)) {
      Instant next = Instant.parse(api.get("/api/triggers/" + t).json().get("next_fire_times").get(0).asText());
      assertThat(next).isAfter(Instant.now());
    }
  }

  @Test
  void a_tick_found_already_fired_moves_the_schedule_on_instead_of_retrying_it_forever() {
    TestServer a = node();
    String agentId = agent(a.admin);
    String id = schedule(a.admin, agentId, "0 9 1 1 *", "run_once");
    a.admin.post("/api/triggers/" + id + "/pause", Map.of());
    // The schedule says a tick is due that has already been fired (e.g. written back by a stale
    // update after a node fired it): the tick is recorded with a run of its own.
    String earlier = a.admin.post("/api/agents/" + agentId + "/runs?wait=true", Map.of("input", "earlier")).json()
        .get("id").asText();
    Instant tick = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).minusSeconds(60);
    jdbi.useHandle(h -> h.createUpdate("INSERT INTO schedule_ticks (trigger_id, tick_at, run_id) VALUES (:t, :tick, :r)")
        .bind("t", id).bind("tick", tick).bind("r", earlier).execute());
    jdbi.useHandle(h -> h.createUpdate("UPDATE triggers SET next_fire_at = :tick, state = 'active' WHERE id = :id")
        .bind("tick", tick).bind("id", id).execute());

    new ScheduleTicker(a.server().triggers(), Clock.systemUTC(), Duration.ofSeconds(1)).fireDue();

    Instant next = jdbi.withHandle(h -> h.createQuery("SELECT next_fire_at FROM triggers WHERE id = :id")
        .bind("id", id).mapTo(Instant.class).one());
    assertThat(next).isAfter(Instant.now());
    assertThat(runs(id)).isZero();
    assertThat(ticks(id)).containsExactly(tick);
  }

  @Test
  void a_change_that_does_not_reschedule_keeps_the_next_tick_the_ticker_has_moved_to() throws Exception {
    TestServer a = node();
    String agentId = agent(a.admin);
    String id = schedule(a.admin, agentId, "0 9 1 1 *", "run_once");
    Instant before = jdbi.withHandle(h -> h.createQuery("SELECT next_fire_at FROM triggers WHERE id = :id")
        .bind("id", id).mapTo(Instant.class).one());
    // A tick fires while the change is on its way: the ticker's update holds the row (locked here,
    // as the ticker's transaction would) when the change writes, and moves the schedule on.
    Instant movedOn = before.plus(Duration.ofDays(365));
    try (org.jdbi.v3.core.Handle ticker = jdbi.open();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      ticker.begin();
      ticker.createUpdate("UPDATE triggers SET next_fire_at = :next WHERE id = :id")
          .bind("next", movedOn).bind("id", id).execute();
      Future<Http.Response> change = pool.submit(() -> a.admin.patch("/api/triggers/" + id,
          Map.of("input_template", "changed")));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!change.isDone() && System.nanoTime() < deadline && !waitingForALock()) {
        AgentSetup.sleep(20);
      }
      ticker.commit();
      assertThat(change.get().status()).isEqualTo(200);
    }
    Instant after = jdbi.withHandle(h -> h.createQuery("SELECT next_fire_at FROM triggers WHERE id = :id")
        .bind("id", id).mapTo(Instant.class).one());
    assertThat(after).isEqualTo(movedOn);
  }

  @Test
  void invalid_cron_time_zone_or_missed_are_422() {
    Http api = node().admin;
    String agentId = agent(api);
    Http.Response refused = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "schedule",
        "cron", "61 * * * *", "time_zone", "Mars/Olympus", "missed", "later", "input_template", "x"));
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.text()).contains("\"cron\"").contains("\"time_zone\"").contains("\"missed\"");

    Http.Response payloadField = api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "schedule",
        "cron", "* * * * *", "input_template", "{{payload.order}}"));
    assertThat(payloadField.status()).isEqualTo(422);
    assertThat(api.post("/api/triggers", Map.of("agent_id", agentId, "kind", "schedule", "cron", "a b c",
        "input_template", "x")).status()).isEqualTo(422);
  }

  static boolean waitingForALock() {
    return jdbi.withHandle(h -> h.createQuery(
            "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE triggers%'")
        .mapTo(Boolean.class).one());
  }

  static void awaitTicks(String triggerId, int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ticks(triggerId).size() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + ticks(triggerId).size() + " ticks fired, expected " + count);
      }
      AgentSetup.sleep(100);
    }
  }
}
