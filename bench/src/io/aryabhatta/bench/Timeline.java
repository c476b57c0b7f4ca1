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

  static String of(Jdbi jdbi, List<ClientView> runs, String title) {
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
      add(segments, "client sends → creation transaction begins (HTTP, auth, agent lookup; the agent's tools read)",
          view.sent(), run[0]);
      add(segments, "creation → first model step opened (0 when the creation's transaction opens it)", run[0],
          steps.get(0).started());
      for (int i = 0; i < steps.size(); i++) {
        StepTimes step = steps.get(i);
        String kind = step.type().equals("llm_call") ? "model step" : "tool step";
        double span = millis(step.started(), step.ended());
        segments.computeIfAbsent(kind + ": opened → closed, minus its own duration_ms (its start's write and"
                + " commit — the first model step's is the creation's —, work around the call, until the next"
                + " transaction begins)", k -> new ArrayList<>())
            .add(span - step.durationMs());
        if (i + 1 < steps.size()) {
          String next = steps.get(i + 1).type().equals("llm_call") ? "model step" : "tool step";
          add(segments, kind + " closed → " + next + " opened (0 when one transaction records both)", step.ended(),
              steps.get(i + 1).started());
        }
      }
      add(segments, "run ended → client has the answer (final commit with the run's row, wake-up, HTTP)", run[2], view.answered());
    }
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, """

        #### Where a run's time goes (%s; timestamps are transaction starts)

        | segment | occurrences/run | mean ms | p50 | p99 |
        |---|---:|---:|---:|---:|
        """, title));
    segments.forEach((name, values) -> out.append(String.format(Locale.ROOT, "| %s | %.0f | %.2f | %.2f | %.2f |%n",
        name, (double) values.size() / runs.size(), values.stream().mapToDouble(Double::doubleValue).average().orElse(0),
        percentile(values, 50), percentile(values, 99))));
    return out.toString();
  }

  private static double percentile(List<Double> values, int p) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
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
