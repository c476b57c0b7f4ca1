package io.aryabhatta.metrics;

import io.aryabhatta.engine.RunScheduler;
import io.aryabhatta.runs.RunStatus;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Gauge;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code GET /metrics}. Run counts come from the database at scrape time, so every node reports
 * the cluster's runs by status; leases held are this process's own.
 */
public final class MetricsRoutes {
  private static final List<String> STATUSES = Arrays.stream(RunStatus.values()).map(RunStatus::wire).toList();

  private final Metrics metrics;
  private final Jdbi jdbi;
  private final Map<String, AtomicLong> runsByStatus = new ConcurrentHashMap<>();

  public MetricsRoutes(Metrics metrics, Jdbi jdbi, RunScheduler scheduler) {
    this.metrics = metrics;
    this.jdbi = jdbi;
    for (String status : STATUSES) {
      AtomicLong value = new AtomicLong();
      runsByStatus.put(status, value);
      Gauge.builder("aryabhatta_runs", value, AtomicLong::get).description("Runs by status (all nodes)")
          .tag("status", status).register(metrics.registry());
    }
    Gauge.builder("aryabhatta_run_queue_depth", runsByStatus.get(RunStatus.QUEUED.wire()), AtomicLong::get)
        .description("Runs waiting to be claimed").register(metrics.registry());
    Gauge.builder("aryabhatta_leases_held", scheduler, RunScheduler::runningCount)
        .description("Runs this process is executing").register(metrics.registry());
  }

  public void register(RoutesConfig routes) {
    routes.get("/metrics", this::scrape);
  }

  private void scrape(Context ctx) {
    runsByStatus.values().forEach(v -> v.set(0));
    jdbi.useHandle(h -> h.createQuery("SELECT status, count(*) AS n FROM runs GROUP BY status")
        .map((rs, c) -> Map.entry(rs.getString("status"), rs.getLong("n")))
        .forEach(e -> runsByStatus.computeIfAbsent(e.getKey(), k -> new AtomicLong()).set(e.getValue())));
    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
  }
}
