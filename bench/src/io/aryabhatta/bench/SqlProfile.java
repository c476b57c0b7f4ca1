package io.aryabhatta.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench --sql-profile}: every SQL statement one run makes, from {@code pg_stat_statements}
 * (loaded only for this mode: the server is started once to enable it and again to use it).
 * Runs go one at a time over HTTP, so the counts are per run, nothing else mixed in.
 */
final class SqlProfile {
  /** An idle backend reports its statistics (pg_stat_wal, pg_stat_user_tables) within 10 s. */
  private static final long STATISTICS_REPORTED = 11_000;

  private SqlProfile() {}

  static String run(FakeModel model, Map<String, String> env, int runs) throws InterruptedException {
    java.nio.file.Path dataDir;
    try (BenchServer first = BenchServer.start(model, env)) {
      first.jdbi().useHandle(h -> h.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"));
      dataDir = first.dataDir;
      first.keepData();
    }
    StringBuilder out = new StringBuilder();
    try (BenchServer server = BenchServer.restart(model, env, dataDir)) {
      server.jdbi().useHandle(h -> h.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
      // Compiled code, not the interpreter: warm up as the benchmark does.
      new LoadRunner(server, model).run(new LoadRunner.Scenario("warmup-http", LoadRunner.Mode.HTTP, 20, 0, 0,
          java.time.Duration.ZERO, java.time.Duration.ofSeconds(20)));
      model.configure(Long.getLong("bench.latency", 0L), 0);
      Thread.sleep(STATISTICS_REPORTED); // the warm-up's, before the counters are read
      server.jdbi().useHandle(h -> h.createQuery("SELECT pg_stat_statements_reset()").mapToMap().list());
      Probes.DbCounters before = Probes.db(server.jdbi());
      Map<String, long[]> tablesBefore = tableWrites(server);
      java.util.List<Timeline.ClientView> seen = new java.util.ArrayList<>();
      for (int i = 0; i < runs; i++) {
        java.time.Instant sent = java.time.Instant.now();
        String body = server.api.startAndWait(server.agentId, "sql-" + i).body();
        java.time.Instant answered = java.time.Instant.now();
        if (!Api.read(body).path("status").asText().equals("completed")) {
          throw new IllegalStateException("run did not complete: " + body);
        }
        seen.add(new Timeline.ClientView(Api.read(body).path("id").asText(), sent, answered));
      }
      Thread.sleep(STATISTICS_REPORTED);
      Probes.DbCounters delta = Probes.db(server.jdbi()).minus(before);
      Map<String, long[]> tablesAfter = tableWrites(server);
      List<Map<String, Object>> rows = server.jdbi().withHandle(h -> h.createQuery("""
              SELECT calls, total_exec_time, query FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND query NOT LIKE '%pg_stat%'
              ORDER BY calls DESC, total_exec_time DESC""").mapToMap().list());
      long statements = rows.stream().mapToLong(r -> ((Number) r.get("calls")).longValue()).sum();
      out.append(String.format(Locale.ROOT, """
          ### SQL per run (%d runs one at a time over HTTP, pg_stat_statements)

          %.1f statements, %.1f commits (xact_commit), %.1f WAL flushes, %.1f kB of WAL per run.

          | table | rows inserted/run | updated/run | of which HOT (no index touched) |
          |---|---:|---:|---:|
          """, runs, (double) statements / runs, (double) delta.commits() / runs, (double) delta.walSyncs() / runs,
          delta.walBytes() / 1024.0 / runs));
      tablesAfter.forEach((table, after) -> {
        long[] was = tablesBefore.getOrDefault(table, new long[3]);
        if (after[0] > was[0] || after[1] > was[1]) {
          out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f |%n", table,
              (after[0] - was[0]) / (double) runs, (after[1] - was[1]) / (double) runs, (after[2] - was[2]) / (double) runs));
        }
      });
      out.append("""

          | calls/run | mean ms | statement |
          |---:|---:|---|
          """);
      for (Map<String, Object> r : rows) {
        double calls = ((Number) r.get("calls")).doubleValue();
        double total = ((Number) r.get("total_exec_time")).doubleValue();
        String query = ((String) r.get("query")).replaceAll("\\s+", " ").replace("|", "\\|");
        out.append(String.format(Locale.ROOT, "| %.1f | %.3f | `%s` |%n", calls / runs, total / calls,
            query.length() > 140 ? query.substring(0, 140) + "…" : query));
      }
      out.append(Timeline.of(server.jdbi(), seen, runs + " runs one at a time, model latency "
          + Long.getLong("bench.latency", 0L) + " ms"));
    }
    return out.toString();
  }

  /** Per table: rows inserted, rows updated, of which HOT updates. */
  private static Map<String, long[]> tableWrites(BenchServer server) {
    Map<String, long[]> writes = new java.util.TreeMap<>();
    server.jdbi().useHandle(h -> h.createQuery(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables")
        .map((rs, ctx) -> writes.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3), rs.getLong(4)}))
        .list());
    return writes;
  }
}
