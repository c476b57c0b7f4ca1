package io.aryabhatta.bench;

import io.aryabhatta.bench.LoadRunner.Mode;
import io.aryabhatta.bench.LoadRunner.Result;
import io.aryabhatta.bench.LoadRunner.RunFigures;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Markdown tables of the results, and the verdict on each target. */
final class Report {
  private static final double MIB = 1024 * 1024;

  private final StringBuilder out = new StringBuilder();
  private final List<String> verdicts = new ArrayList<>();

  static double percentile(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  static double percentile(List<RunFigures> runs, ToDoubleFunction<RunFigures> f, double p) {
    return percentile(runs.stream().map(f::applyAsDouble).toList(), p);
  }

  void heading(String text) {
    out.append("\n### ").append(text).append("\n\n");
  }

  void line(String text) {
    out.append(text).append('\n');
  }

  void throughput(List<Result> results) {
    line("| scenario | clients | model latency | runs/s | steps/s | DB commits/s | commits/run | WAL fsyncs/run "
        + "| CPU ms/run JVM | CPU ms/run PostgreSQL | overhead/step p50 | p99 | (model timed at server) p50 | p99 "
        + "| pool wait mean | peak running | peak heap used | errors | load 1m |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Result r : results) {
      double commitsPerRun = r.runsInWindow() == 0 ? 0 : (double) r.db().commits() / r.runsInWindow();
      double fsyncsPerRun = r.runsInWindow() == 0 ? 0 : (double) r.db().walSyncs() / r.runsInWindow();
      line(String.format(Locale.ROOT,
          "| %s | %d | %d ms | %.1f | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %.2f ms | %d | %.0f MiB | %d | %s→%s |",
          r.scenario().name(), r.scenario().concurrency(), r.scenario().latencyMillis(), r.runsPerSecond(),
          r.runsPerSecond() * 5, r.db().commits() / r.windowSeconds(), commitsPerRun, fsyncsPerRun,
          perRun(r, r.cpu().jvmNanos()), perRun(r, r.cpu().postgresNanos()),
          ms(percentile(r.runs(), RunFigures::overheadPerStepMs, 50)),
          ms(percentile(r.runs(), RunFigures::overheadPerStepMs, 99)),
          ms(percentile(r.runs(), RunFigures::overheadPerStepFineMs, 50)),
          ms(percentile(r.runs(), RunFigures::overheadPerStepFineMs, 99)),
          r.pool().meanMillis(), r.peakRunning(), r.peakHeapBytes() / MIB, r.errors(), r.loadBefore(), r.loadAfter()));
    }
    for (Result r : results) {
      if (!r.problems().isEmpty()) {
        line("");
        line("Errors in " + r.scenario().name() + ": " + String.join("; ", r.problems()));
      }
    }
  }

  private static double perRun(Result r, long nanos) {
    return r.runsInWindow() == 0 ? 0 : nanos / 1e6 / r.runsInWindow();
  }

  void firstToken(List<Result> results) {
    line("| scenario | clients | model latency | token rate | runs measured | added TTFT p50 | p90 | p99 | errors | load 1m |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Result r : results) {
      List<Double> ttft = r.runs().stream().map(RunFigures::addedFirstTokenMs).filter(x -> x != null).toList();
      line(String.format(Locale.ROOT, "| %s | %d | %d ms | %d tok/s | %d | %s | %s | %s | %d | %s→%s |",
          r.scenario().name(), r.scenario().concurrency(), r.scenario().latencyMillis(),
          r.scenario().tokensPerSecond(), ttft.size(), ms(percentile(ttft, 50)), ms(percentile(ttft, 90)),
          ms(percentile(ttft, 99)), r.errors(), r.loadBefore(), r.loadAfter()));
    }
  }

  void inFlight(LoadRunner.InFlight m) {
    line("| runs started at once | peak executing | peak in model call | heap used | live heap after GC | max heap (-Xmx) "
        + "| JVM RSS | PostgreSQL PSS | errors | all done in | load 1m |");
    line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    line(String.format(Locale.ROOT, "| %d | %d | %d | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %d | %.1f s | %s |",
        m.runs(), m.peakRunning(), m.peakModelCalls(), m.heapUsedBytes() / MIB, m.liveHeapBytes() / MIB,
        m.heapMaxBytes() / MIB, m.rssBytes() / MIB, m.postgresPssBytes() / MIB, m.errors(), m.seconds(), m.load()));
  }

  void target(String name, boolean met, String detail) {
    verdicts.add("- " + (met ? "MET" : "MISSED") + ": " + name + " — " + detail);
  }

  String render() {
    StringBuilder all = new StringBuilder(out);
    if (!verdicts.isEmpty()) {
      all.append("\n### Targets\n\n");
      verdicts.forEach(v -> all.append(v).append('\n'));
    }
    return all.toString();
  }

  static String ms(double value) {
    return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.2f ms", value);
  }

  static boolean isMode(Result r, Mode mode) {
    return r.scenario().mode() == mode;
  }
}
