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
    line("| scenario | clients | model latency | runs/s | overhead/model call p50 | p99 | overhead/step p50 | p99 "
        + "| platform CPU ms/model call | of which PostgreSQL | JIT ms/model call (not counted) | commits/run | rows written/run | WAL fsyncs/run "
        + "| WAL kB/run | pool wait mean "
        + "| peak running | peak heap used | errors | load 1m |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Result r : results) {
      boolean durable = r.scenario().mode() != Mode.LANGCHAIN4J;
      double commitsPerRun = r.runsInWindow() == 0 ? 0 : (double) r.db().commits() / r.runsInWindow();
      double fsyncsPerRun = r.runsInWindow() == 0 ? 0 : (double) r.db().walSyncs() / r.runsInWindow();
      line(String.format(Locale.ROOT,
          "| %s | %d | %d ms | %.1f | %s | %s | %s | %s | %.2f | %s | %.2f | %s | %s | %s | %s | %s | %d | %.0f MiB | %d | %s→%s |",
          r.scenario().name(), r.scenario().concurrency(), r.scenario().latencyMillis(), r.runsPerSecond(),
          ms(percentile(r.runs(), RunFigures::overheadPerModelCallMs, 50)),
          ms(percentile(r.runs(), RunFigures::overheadPerModelCallMs, 99)),
          durable ? ms(percentile(r.runs(), RunFigures::overheadPerStepMs, 50)) : "–",
          durable ? ms(percentile(r.runs(), RunFigures::overheadPerStepMs, 99)) : "–",
          r.platformCpuMsPerModelCall(),
          durable ? String.format(Locale.ROOT, "%.2f", perRun(r, r.cpu().postgresNanos()) / LoadRunner.MODEL_CALLS_PER_RUN) : "–",
          r.jitCpuMsPerModelCall(),
          durable ? String.format(Locale.ROOT, "%.1f", commitsPerRun) : "–",
          durable ? String.format(Locale.ROOT, "%.1f", perRunCount(r, r.db().rowsWritten())) : "–",
          durable ? String.format(Locale.ROOT, "%.1f", fsyncsPerRun) : "–",
          durable ? String.format(Locale.ROOT, "%.1f", perRunCount(r, r.db().walBytes()) / 1024) : "–",
          durable ? String.format(Locale.ROOT, "%.2f ms", r.pool().meanMillis()) : "–",
          r.peakRunning(), r.peakHeapBytes() / MIB, r.errors(), r.loadBefore(), r.loadAfter()));
    }
    for (Result r : results) {
      if (!r.problems().isEmpty()) {
        line("");
        line("Errors in " + r.scenario().name() + ": " + String.join("; ", r.problems()));
      }
    }
  }

  /** The cells: each measured for both, in this run of the benchmark. */
  void sideBySide(List<Result> http, List<Result> langChain4j) {
    line("| cell | LangChain4j in-process | Aryabhatta over HTTP | Aryabhatta ÷ LangChain4j |");
    line("|---|---:|---:|---:|");
    cell(http, langChain4j, "c1-0ms", "1 concurrent run, model 0 ms: overhead per model call p50", true,
        r -> percentile(r.runs(), RunFigures::overheadPerModelCallMs, 50));
    cell(http, langChain4j, "c1-0ms", "1 concurrent run, model 0 ms: overhead per model call p99", true,
        r -> percentile(r.runs(), RunFigures::overheadPerModelCallMs, 99));
    cell(http, langChain4j, "c10-0ms", "10 concurrent, model 0 ms: runs/s", false, Result::runsPerSecond);
    cell(http, langChain4j, "c100-50ms", "100 concurrent, model 50 ms: runs/s", false, Result::runsPerSecond);
    cell(http, langChain4j, "c100-50ms", "100 concurrent, model 50 ms: overhead per model call p50", true,
        r -> percentile(r.runs(), RunFigures::overheadPerModelCallMs, 50));
    cell(http, langChain4j, "c100-50ms",
        "CPU per model call, 100 concurrent, model 50 ms (LangChain4j: its JVM; Aryabhatta: server JVM + PostgreSQL)",
        true, Result::platformCpuMsPerModelCall);
    cell(http, langChain4j, "c1000-1s", "1,000 concurrent, model 1 s: runs/s", false, Result::runsPerSecond);
  }

  private void cell(List<Result> http, List<Result> langChain4j, String suffix, String name, boolean millis,
      java.util.function.ToDoubleFunction<Result> figure) {
    Result ours = http.stream().filter(r -> r.scenario().name().equals("http-" + suffix)).findFirst().orElse(null);
    Result theirs = langChain4j.stream().filter(r -> r.scenario().name().equals("langchain4j-" + suffix)).findFirst()
        .orElse(null);
    if (ours == null && theirs == null) {
      return;
    }
    double a = theirs == null ? Double.NaN : figure.applyAsDouble(theirs);
    double b = ours == null ? Double.NaN : figure.applyAsDouble(ours);
    line(String.format(Locale.ROOT, "| %s | %s | %s | %s |", name, millis ? ms(a) : String.format(Locale.ROOT, "%.1f", a),
        millis ? ms(b) : String.format(Locale.ROOT, "%.1f", b),
        Double.isNaN(a) || Double.isNaN(b) || a == 0 ? "–" : String.format(Locale.ROOT, "%.2f×", b / a)));
  }

  private static double perRunCount(Result r, long count) {
    return r.runsInWindow() == 0 ? 0 : (double) count / r.runsInWindow();
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
