package io.aryabhatta.bench;

import io.aryabhatta.bench.LoadRunner.Mode;
import io.aryabhatta.bench.LoadRunner.Result;
import io.aryabhatta.bench.LoadRunner.RunFigures;
import io.aryabhatta.bench.LoadRunner.Scenario;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Aryabhatta's performance benchmark: {@code ./aryabhatta.sh bench [--quick] [--only NAME,…]
 * [--env KEY=VALUE …]}. Every run of the benchmark agent is 3 model calls and 2 tool calls
 * (5 journal steps). Results go to standard output and {@code target/bench/}.
 */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    boolean quick = false;
    boolean sqlProfile = false;
    boolean asyncCommit = false;
    List<String> only = List.of();
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--sql-profile" -> sqlProfile = true;
        case "--unsafe-async-commit" -> asyncCommit = true;
        case "--only" -> only = List.of(args[++i].split(","));
        case "--env" -> {
          String[] kv = args[++i].split("=", 2);
          env.put(kv[0], kv[1]);
        }
        default -> {
          System.err.println("usage: bench [--quick | --sql-profile] [--only NAME,...] [--env KEY=VALUE ...] [--unsafe-async-commit]");
          System.exit(2);
        }
      }
    }
    if (sqlProfile) {
      try (FakeModel model = FakeModel.start()) {
        System.out.println(SqlProfile.run(model, env, Integer.getInteger("bench.runs", 50)));
      }
      System.exit(0);
    }
    long started = System.nanoTime();
    Report report = new Report();
    try (FakeModel model = FakeModel.start(); BenchServer server = BenchServer.start(model, env)) {
      if (asyncCommit) {
        // Profiling only: what the WAL flush of each commit costs. A crash could lose the last
        // commits, so a started tool could run again: never a product setting.
        // The embedded server gets synchronous_commit on its command line, which ALTER SYSTEM cannot
        // override; a database default can, for sessions opened after it: the pool reconnects.
        server.jdbi().useHandle(h -> h.execute("ALTER DATABASE " + io.aryabhatta.db.EmbeddedDatabase.DATABASE
            + " SET synchronous_commit = off"));
        server.server.database().pool().getHikariPoolMXBean().softEvictConnections();
        env.put("(profiling) synchronous_commit", "off");
      }
      LoadRunner runner = new LoadRunner(server, model);
      report.line(machine(quick, env));
      if (only.isEmpty() || only.contains("floor")) {
        System.err.println("[bench] the machine's floor (round trips and commits) …");
        report.line(Floor.describe(Floor.measureBoth(server.jdbi())));
      }
      warmUp(runner, quick);
      List<Result> http = new ArrayList<>();
      List<Result> stream = new ArrayList<>();
      List<Result> engine = new ArrayList<>();
      List<Result> langChain4j = new ArrayList<>();
      for (Scenario s : scenarios(quick)) {
        if (!only.isEmpty() && only.stream().noneMatch(s.name()::contains)) {
          continue;
        }
        System.err.printf(Locale.ROOT, "[bench] %s (%d clients, model latency %d ms) …%n", s.name(), s.concurrency(),
            s.latencyMillis());
        Result r = runner.run(s);
        System.err.printf(Locale.ROOT, "[bench]   %.1f runs/s, overhead/step p50 %s p99 %s, %d errors, load %s%n",
            r.runsPerSecond(), Report.ms(Report.percentile(r.runs(), RunFigures::overheadPerStepMs, 50)),
            Report.ms(Report.percentile(r.runs(), RunFigures::overheadPerStepMs, 99)), r.errors(), r.loadAfter());
        (switch (s.mode()) {
          case HTTP -> http;
          case HTTP_STREAM -> stream;
          case ENGINE -> engine;
          case LANGCHAIN4J -> langChain4j;
        }).add(r);
      }
      List<KnowledgeBench.Figures> knowledge = new ArrayList<>();
      if (only.isEmpty() || only.contains("knowledge")) {
        for (String kind : List.of("full text", "hybrid")) {
          for (int chunks : quick ? new int[] {2_000} : kind.equals("hybrid") ? new int[] {10_000, 50_000}
              : new int[] {10_000, 100_000}) {
            System.err.printf(Locale.ROOT, "[bench] knowledge base, %s, %d chunks …%n", kind, chunks);
            knowledge.add(KnowledgeBench.run(server, kind.equals("hybrid") ? "hybrid" : "fulltext", chunks));
          }
        }
      }
      LoadRunner.InFlight inFlight = null;
      if (only.isEmpty() || only.contains("inflight")) {
        int runs = quick ? 200 : 1000;
        System.err.printf(Locale.ROOT, "[bench] memory at %d runs in flight …%n", runs);
        inFlight = runner.inFlight(runs, 1000);
      }
      report(report, http, stream, engine, langChain4j, inFlight);
      if (!knowledge.isEmpty()) {
        report.line(KnowledgeBench.table(knowledge));
      }
    }
    report.line(serverLogWarnings(Path.of("target/bench/server.log")));
    report.line(String.format(Locale.ROOT, "%nBenchmark wall time: %.0f s.", (System.nanoTime() - started) / 1e9));
    String text = report.render();
    System.out.println(text);
    Path dir = Path.of("target/bench");
    Files.createDirectories(dir);
    Path file = dir.resolve("results-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(ZonedDateTime.now())
        + (quick ? "-quick" : "") + ".md");
    Files.writeString(file, text);
    System.err.println("[bench] results written to " + file);
    System.exit(0);
  }

  private static List<Scenario> scenarios(boolean quick) {
    List<Scenario> list = new ArrayList<>();
    if (quick) {
      list.add(new Scenario("http-c1-0ms", Mode.HTTP, 1, 0, 0, secs(1), secs(3)));
      list.add(new Scenario("langchain4j-c1-0ms", Mode.LANGCHAIN4J, 1, 0, 0, secs(1), secs(3)));
      list.add(new Scenario("http-c100-50ms", Mode.HTTP, 100, 50, 0, secs(1), secs(4)));
      list.add(new Scenario("langchain4j-c100-50ms", Mode.LANGCHAIN4J, 100, 50, 0, secs(1), secs(4)));
      list.add(new Scenario("http-c100-1s", Mode.HTTP, 100, 1000, 0, secs(4), secs(6)));
      list.add(new Scenario("stream-c10", Mode.HTTP_STREAM, 10, 100, 50, secs(1), secs(4)));
      list.add(new Scenario("engine-c10-0ms", Mode.ENGINE, 10, 0, 0, secs(1), secs(3)));
      return list;
    }
    Duration window = secs(Long.getLong("bench.window", 15));
    // Each cell of the comparison: Aryabhatta over HTTP, then LangChain4j in-process, back to back.
    for (int clients : new int[] {1, 10}) {
      list.add(new Scenario("http-c" + clients + "-0ms", Mode.HTTP, clients, 0, 0, secs(3), window));
      list.add(new Scenario("langchain4j-c" + clients + "-0ms", Mode.LANGCHAIN4J, clients, 0, 0, secs(3), window));
    }
    list.add(new Scenario("http-c100-0ms", Mode.HTTP, 100, 0, 0, secs(3), window));
    list.add(new Scenario("http-c100-50ms", Mode.HTTP, 100, 50, 0, secs(3), window));
    list.add(new Scenario("langchain4j-c100-50ms", Mode.LANGCHAIN4J, 100, 50, 0, secs(3), window));
    list.add(new Scenario("http-c10-1s", Mode.HTTP, 10, 1000, 0, secs(5), window));
    list.add(new Scenario("http-c100-1s", Mode.HTTP, 100, 1000, 0, secs(5), window));
    list.add(new Scenario("http-c1000-1s", Mode.HTTP, 1000, 1000, 0, secs(5), window));
    list.add(new Scenario("langchain4j-c1000-1s", Mode.LANGCHAIN4J, 1000, 1000, 0, secs(5), window));
    list.add(new Scenario("http-c100-1s-lockstep", Mode.HTTP, 100, 1000, 0, secs(5), window, true));
    list.add(new Scenario("stream-c10", Mode.HTTP_STREAM, 10, 100, 50, secs(2), secs(15)));
    list.add(new Scenario("stream-c100", Mode.HTTP_STREAM, 100, 100, 50, secs(3), secs(15)));
    list.add(new Scenario("engine-c10-0ms", Mode.ENGINE, 10, 0, 0, secs(3), window));
    list.add(new Scenario("engine-c100-50ms", Mode.ENGINE, 100, 50, 0, secs(3), window));
    list.add(new Scenario("engine-c1000-1s", Mode.ENGINE, 1000, 1000, 0, secs(5), window));
    return list;
  }

  /** JIT compilation and connection pools warm up first; these runs are not reported. */
  private static void warmUp(LoadRunner runner, boolean quick) throws InterruptedException {
    System.err.println("[bench] warming up …");
    // The JIT compiler alone takes a third of the CPU in the first seconds: warm up long enough.
    runner.run(new Scenario("warmup-http", Mode.HTTP, 20, 0, 0, Duration.ZERO, secs(quick ? 3 : 20)));
    runner.run(new Scenario("warmup-stream", Mode.HTTP_STREAM, 10, 0, 0, Duration.ZERO, secs(quick ? 1 : 5)));
    runner.run(new Scenario("warmup-engine", Mode.ENGINE, 20, 0, 0, Duration.ZERO, secs(quick ? 1 : 8)));
    runner.run(new Scenario("warmup-langchain4j", Mode.LANGCHAIN4J, 20, 0, 0, Duration.ZERO, secs(quick ? 2 : 10)));
    if (!quick) {
      warmUntilCompiled(runner);
    }
  }

  /**
   * On a slow machine the JIT compiler is still busy after the fixed warm-up: both load loops go
   * on in turns until it spends under 5% of the machine in a round (at most 2 minutes more).
   */
  private static void warmUntilCompiled(LoadRunner runner) throws InterruptedException {
    int cores = Runtime.getRuntime().availableProcessors();
    for (int round = 1; round <= 12; round++) {
      long jitBefore = Probes.jitNanos();
      long started = System.nanoTime();
      runner.run(new Scenario("warmup-http", Mode.HTTP, 20, 0, 0, Duration.ZERO, secs(5)));
      runner.run(new Scenario("warmup-langchain4j", Mode.LANGCHAIN4J, 20, 0, 0, Duration.ZERO, secs(5)));
      double share = (double) (Probes.jitNanos() - jitBefore) / (System.nanoTime() - started) / cores;
      System.err.printf(Locale.ROOT, "[bench] JIT compiler: %.1f%% of the machine in warm-up round %d%n",
          100 * share, round);
      if (share < 0.05) {
        return;
      }
    }
  }

  private static void report(Report report, List<Result> http, List<Result> stream, List<Result> engine,
      List<Result> langChain4j, LoadRunner.InFlight inFlight) {
    if (!http.isEmpty() || !langChain4j.isEmpty()) {
      report.heading("Side by side: Aryabhatta over HTTP (durable) and LangChain4j in-process (not durable)");
      report.sideBySide(http, langChain4j);
    }
    if (!http.isEmpty()) {
      report.heading("Throughput and overhead over HTTP (`POST /api/agents/{id}/runs?wait=true`)");
      report.throughput(http);
      http.forEach(r -> report.line(r.timeline()));
    }
    if (!langChain4j.isEmpty()) {
      report.heading("LangChain4j " + langChain4jVersion() + " in-process (`AiServices`, same fake model and tools)");
      report.throughput(langChain4j);
    }
    if (!engine.isEmpty()) {
      report.heading("Aryabhatta in-process, without HTTP (`RunService` called directly)");
      report.throughput(engine);
    }
    if (!stream.isEmpty()) {
      report.heading("Time to first token added by the platform (`?stream=true`, model's first token → client's first `message.delta`)");
      report.firstToken(stream);
    }
    if (inFlight != null) {
      report.heading("Memory with runs in flight (model latency 1 s)");
      report.inFlight(inFlight);
    }
    http.stream().filter(r -> r.scenario().name().equals("http-c100-1s")).findFirst().ifPresent(r -> {
      double p50 = Report.percentile(r.runs(), RunFigures::overheadPerStepMs, 50);
      report.target("overhead per step p50 ≤ 2 ms at 100 concurrent runs (1 s model latency, HTTP)", p50 <= 2,
          Report.ms(p50));
    });
    find(http, "http-c100-50ms").ifPresent(r -> find(langChain4j, "langchain4j-c100-50ms").ifPresent(l -> {
      double ratio = r.runsPerSecond() / l.runsPerSecond();
      report.target("100 concurrent runs, 50 ms model: at least 0.75× LangChain4j's runs/s, 0 errors",
          ratio >= 0.75 && r.errors() == 0, String.format(Locale.ROOT, "%.1f against %.1f runs/s (%.2f×), %d errors",
              r.runsPerSecond(), l.runsPerSecond(), ratio, r.errors()));
      double cpu = r.platformCpuMsPerModelCall();
      report.target("CPU per model call of the server and its PostgreSQL ≤ 1 ms (100 concurrent runs, 50 ms model)",
          cpu <= 1, String.format(Locale.ROOT, "%.2f ms (LangChain4j's JVM: %.2f ms)", cpu, l.platformCpuMsPerModelCall()));
    }));
    find(http, "http-c1-0ms").ifPresent(r -> {
      double p50 = Report.percentile(r.runs(), RunFigures::overheadPerModelCallMs, 50);
      double p99 = Report.percentile(r.runs(), RunFigures::overheadPerModelCallMs, 99);
      report.target("1 run, 0 ms model: overhead per model call p50 ≤ 1.5 ms, p99 ≤ 5 ms", p50 <= 1.5 && p99 <= 5,
          Report.ms(p50) + " / " + Report.ms(p99));
    });
    find(http, "http-c1000-1s").ifPresent(r ->
        report.target("1,000 concurrent runs, 1 s model: at least 250 runs/s (the model's limit is 333), 0 errors",
            r.runsPerSecond() >= 250 && r.errors() == 0,
            String.format(Locale.ROOT, "%.1f runs/s, %d errors", r.runsPerSecond(), r.errors())));
    if (inFlight != null) {
      boolean met = inFlight.errors() == 0 && inFlight.liveHeapBytes() <= 512L * 1024 * 1024
          && inFlight.heapMaxBytes() <= 512L * 1024 * 1024;
      report.target(inFlight.runs() + " runs in flight within 512 MiB of heap", met, String.format(Locale.ROOT,
          "live heap %.0f MiB, used before GC %.0f MiB, under -Xmx %.0f MiB (client and fake model included), %d errors",
          inFlight.liveHeapBytes() / 1048576.0, inFlight.heapUsedBytes() / 1048576.0,
          inFlight.heapMaxBytes() / 1048576.0, inFlight.errors()));
    }
    stream.stream().filter(r -> r.scenario().name().equals("stream-c10")).findFirst().ifPresent(r -> {
      double p50 = Report.percentile(r.runs().stream().map(RunFigures::addedFirstTokenMs).filter(x -> x != null)
          .toList(), 50);
      report.target("added time to first token p50 ≤ 5 ms (10 streaming clients)", p50 <= 5, Report.ms(p50));
    });
  }

  /** The version of the LangChain4j jar on the class path. */
  private static String langChain4jVersion() {
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("langchain4j-(\\d[^/]*)\\.jar$").matcher(entry);
      if (m.find()) {
        return m.group(1);
      }
    }
    return "";
  }

  private static java.util.Optional<Result> find(List<Result> results, String name) {
    return results.stream().filter(r -> r.scenario().name().equals(name)).findFirst();
  }

  private static String machine(boolean quick, Map<String, String> env) {
    String memory = "?";
    try {
      memory = Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
    } catch (IOException ignored) {
      // not Linux
    }
    return String.format(Locale.ROOT, """
        ## Benchmark run %s%s

        - Machine: %d CPUs, %s, JDK %s (%s, collectors %s), heap max %d MiB, load average at start %s
        - Server: embedded PostgreSQL, durable defaults (fsync, synchronous_commit, full_page_writes on) unless said below;
          all other settings default except the per-key rate limit, which is off%s
        - Each run: 3 model calls (2 ask for a tool, 1 streams a 20-token answer) + 2 built-in tool calls = 5 steps
        """,
        DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(ZonedDateTime.now().withNano(0)), quick ? " (quick)" : "",
        Runtime.getRuntime().availableProcessors(), memory, System.getProperty("java.version"),
        System.getProperty("java.vm.name"), java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(java.lang.management.GarbageCollectorMXBean::getName).toList(), Runtime.getRuntime().maxMemory() / (1024 * 1024), Probes.loadAverage(),
        env.isEmpty() ? "" : ", " + env);
  }

  /** Warnings and errors the server logged during the benchmark, grouped (the log itself stays in target/bench). */
  private static String serverLogWarnings(Path log) {
    try (var lines = Files.lines(log)) {
      Map<String, Long> counts = new java.util.TreeMap<>();
      lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
          .map(l -> l.replaceFirst("^\\S+ ", "").replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<id>").replaceAll("\\d+", "N"))
          .map(l -> l.length() > 160 ? l.substring(0, 160) + "…" : l)
          .forEach(l -> counts.merge(l, 1L, Long::sum));
      if (counts.isEmpty()) {
        return "\nServer log: no warnings or errors.";
      }
      StringBuilder out = new StringBuilder("\nServer log warnings and errors (count, message with numbers as N):\n\n");
      counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
          .forEach(e -> out.append("- ").append(e.getValue()).append(" × `").append(e.getKey()).append("`\n"));
      return out.toString();
    } catch (IOException e) {
      return "";
    }
  }

  private static Duration secs(long seconds) {
    return Duration.ofSeconds(seconds);
  }

  static String jvmArguments() {
    return String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
  }
}
