package io.aryabhatta.bench;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Where one run's wall time goes, from the journal's timestamps (each is the start of the
 * transaction that wrote it) and the client's clock (the same machine clock).
 */
final class Timeline {
  private Timeline() {}

  record ClientView(String runId, Instant sent, Instant answered) {}

  private record StepTimes(String type, Instant started, Instant ended, long durationMs) {}

  static String of(Jdbi jdbi, List<ClientView> runs) {
    Map<String, List<Double>> segments = new LinkedHashMap<>();
    for (ClientView view : runs) {
      Instant[] run = jdbi.withHandle(h -> h.createQuery(
              "SELECT created_at, started_at, ended_at FROM runs WHERE id = :id").bind("id", view.runId())
          .map((rs, c) -> new Instant[] {at(rs.getObject(1, OffsetDateTime.class)),
              at(rs.getObject(2, OffsetDateTime.class)), at(rs.getObject(3, OffsetDateTime.class))})
          .one());
      List<StepTimes> steps = jdbi.withHandle(h -> h.createQuery(
              "SELECT type, started_at, ended_at, duration_ms FROM run_steps WHERE run_id = :id ORDER BY idx")
          .bind("id", view.runId())
          .map((rs, c) -> new StepTimes(rs.getString(1), at(rs.getObject(2, OffsetDateTime.class)),
              at(rs.getObject(3, OffsetDateTime.class)), rs.getLong(4)))
          .list());
      add(segments, "client sends → run row inserted (HTTP, auth, agent lookup)", view.sent(), run[0]);
      add(segments, "inserted → marked running (commit, claim, thread start)", run[0], run[1]);
      add(segments, "running → first model step opened (commit, load agent, read journal, build request)", run[1],
          steps.get(0).started());
      for (int i = 0; i < steps.size(); i++) {
        StepTimes step = steps.get(i);
        String kind = step.type().equals("llm_call") ? "model step" : "tool step";
        double span = millis(step.started(), step.ended());
        segments.computeIfAbsent(kind + ": opened → closed, minus its own duration_ms", k -> new ArrayList<>())
            .add(span - step.durationMs());
        if (i + 1 < steps.size()) {
          String next = steps.get(i + 1).type().equals("llm_call") ? "model step" : "tool step";
          add(segments, kind + " closed → " + next + " opened (commit, read journal, checks)", step.ended(),
              steps.get(i + 1).started());
        }
      }
      add(segments, "run completed → client has the answer (commit, wake-up, read, HTTP)", run[2], view.answered());
    }
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, """

        ### Where one run's time goes (%d runs one at a time, model latency 0 ms; mean per occurrence)

        | segment | occurrences/run | mean ms |
        |---|---:|---:|
        """, runs.size()));
    segments.forEach((name, values) -> out.append(String.format(Locale.ROOT, "| %s | %.0f | %.2f |%n", name,
        (double) values.size() / runs.size(), values.stream().mapToDouble(Double::doubleValue).average().orElse(0))));
    return out.toString();
  }

  private static void add(Map<String, List<Double>> segments, String name, Instant from, Instant to) {
    segments.computeIfAbsent(name, k -> new ArrayList<>()).add(millis(from, to));
  }

  private static double millis(Instant from, Instant to) {
    return Duration.between(from, to).toNanos() / 1e6;
  }

  private static Instant at(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
