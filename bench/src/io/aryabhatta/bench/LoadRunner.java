package io.aryabhatta.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.Streaming;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives one scenario: {@code concurrency} clients each start a run, wait for it to end, and start
 * the next, for a ramp-up and then a measured window. Then it stops starting runs, lets the last
 * ones finish, and reads the journal's step durations of the runs that started and ended inside
 * the window.
 */
final class LoadRunner {
  /**
   * How a client runs the agent: over HTTP (waiting, or reading the stream), in-process through
   * the run service, or as the in-process LangChain4j assistant it is compared with.
   */
  enum Mode {
    HTTP, HTTP_STREAM, ENGINE, LANGCHAIN4J;

    /** Whether the clients' own threads do the work measured (in-process), not only wait for it. */
    boolean inProcess() {
      return this == ENGINE || this == LANGCHAIN4J;
    }
  }

  /**
   * @param lockstep all clients start their first run at the same instant. Otherwise their first
   *     starts are spread over one run's model time, as independent users' would be: with fixed
   *     latencies a closed loop keeps its clients in step, so all of them would otherwise start a
   *     run in the same millisecond, again and again.
   */
  record Scenario(String name, Mode mode, int concurrency, long latencyMillis, int tokensPerSecond,
      Duration ramp, Duration window, boolean lockstep) {
    Scenario(String name, Mode mode, int concurrency, long latencyMillis, int tokensPerSecond, Duration ramp,
        Duration window) {
      this(name, mode, concurrency, latencyMillis, tokensPerSecond, ramp, window, false);
    }
  }

  /** Model calls per run of the benchmark agent. */
  static final int MODEL_CALLS_PER_RUN = 3;

  /** One run as its client saw it. */
  record Sample(String tag, String runId, long startNanos, long endNanos, boolean ok, String problem,
      long firstDeltaNanos) {}

  /** Per-run figures, all in milliseconds. */
  record RunFigures(double wallMs, double modelMs, double toolMs, int steps, double modelServerMs,
      Double addedFirstTokenMs) {
    double overheadPerStepMs() {
      return (wallMs - modelMs - toolMs) / steps;
    }

    double overheadPerStepFineMs() {
      return (wallMs - modelServerMs - toolMs) / steps;
    }

    /** The client's wall time less the fake model's own time and the tools', per model call. */
    double overheadPerModelCallMs() {
      return (wallMs - modelServerMs - toolMs) / MODEL_CALLS_PER_RUN;
    }
  }

  record Result(Scenario scenario, String loadBefore, String loadAfter, int runsInWindow, int errors,
      List<String> problems, double windowSeconds, List<RunFigures> runs, Probes.DbCounters db,
      Probes.PoolCounters pool, Probes.Cpu cpu, long peakHeapBytes, long peakRssBytes, long postgresPssBytes, int peakRunning,
      int peakModelCalls, String timeline) {
    double runsPerSecond() {
      return runsInWindow / windowSeconds;
    }

    /**
     * CPU time of the platform per model call: this JVM's less the fake model's threads (and the
     * clients', unless the work runs on them) and less the JIT compiler's (reported apart, by
     * {@link #jitCpuMsPerModelCall}), plus PostgreSQL's for Aryabhatta. GC counts.
     */
    double platformCpuMsPerModelCall() {
      if (runsInWindow == 0) {
        return Double.NaN;
      }
      long nanos = cpu.jvmNanos() - cpu.fakeModelNanos() - (scenario.mode().inProcess() ? 0 : cpu.clientNanos())
          - cpu.jitNanos() + (scenario.mode() == Mode.LANGCHAIN4J ? 0 : cpu.postgresNanos());
      return nanos / 1e6 / runsInWindow / MODEL_CALLS_PER_RUN;
    }

    /** The JIT compiler's CPU time in the window, per model call: still warming up if not near 0. */
    double jitCpuMsPerModelCall() {
      return runsInWindow == 0 ? Double.NaN : cpu.jitNanos() / 1e6 / runsInWindow / MODEL_CALLS_PER_RUN;
    }
  }

  private final BenchServer server;
  private final FakeModel model;
  private final AtomicInteger counter = new AtomicInteger();
  /** Made when first needed, so that a benchmark without it never loads LangChain4j. */
  private LangChain4jAgent langChain4j;
  /** Tool time of each LangChain4j run, by tag (Aryabhatta's is in its journal). */
  private final Map<String, Long> langChain4jToolNanos = new java.util.concurrent.ConcurrentHashMap<>();

  LoadRunner(BenchServer server, FakeModel model) {
    this.server = server;
    this.model = model;
  }

  Result run(Scenario s) throws InterruptedException {
    if (s.mode() == Mode.LANGCHAIN4J && langChain4j == null) {
      langChain4j = new LangChain4jAgent(model);
    }
    model.configure(s.latencyMillis(), s.tokensPerSecond());
    String loadBefore = Probes.loadAverage();
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    long windowStart = start + s.ramp().toNanos();
    long windowEnd = windowStart + s.window().toNanos();
    List<Thread> clients = new ArrayList<>();
    long spread = s.lockstep() ? 0 : s.latencyMillis() * MODEL_CALLS_PER_RUN * 1_000_000L / s.concurrency();
    for (int i = 0; i < s.concurrency(); i++) {
      long firstStart = start + i * spread;
      // Platform threads, so that their CPU time can be told from the server's.
      clients.add(BenchThreads.start(BenchThreads.CLIENT + i, () -> {
        try {
          sleepUntil(firstStart);
        } catch (InterruptedException e) {
          return;
        }
        while (System.nanoTime() < windowEnd) {
          samples.add(oneRun(s.mode(), s.name() + "-" + counter.incrementAndGet()));
        }
      }, true));
    }
    Sampler sampler = new Sampler();
    Thread sampling = Thread.ofPlatform().daemon().start(() -> sampler.loop(windowEnd));
    sleepUntil(windowStart);
    model.takePeakInFlight();
    Probes.DbCounters db0 = Probes.db(server.jdbi());
    Probes.PoolCounters pool0 = Probes.pool(server.api);
    Probes.Cpu cpu0 = Probes.cpu(server.dataDir);
    sleepUntil(windowEnd);
    Probes.Cpu cpu = Probes.cpu(server.dataDir).minus(cpu0);
    Probes.DbCounters db = Probes.db(server.jdbi()).minus(db0);
    Probes.PoolCounters pool = Probes.pool(server.api).minus(pool0);
    int peakModelCalls = model.takePeakInFlight();
    long pss = Probes.postgresPssBytes(server.dataDir);
    for (Thread client : clients) {
      client.join(Duration.ofMinutes(3));
    }
    sampling.join();
    List<Sample> all = List.copyOf(samples);
    List<Sample> inWindow = all.stream().filter(x -> x.endNanos() >= windowStart && x.endNanos() < windowEnd).toList();
    List<Sample> steady = inWindow.stream().filter(x -> x.startNanos() >= windowStart && x.ok()).toList();
    List<String> problems = all.stream().filter(x -> !x.ok()).map(Sample::problem).distinct().limit(5).toList();
    int errors = (int) all.stream().filter(x -> !x.ok()).count();
    List<RunFigures> figures = figures(steady);
    String timeline = s.mode().inProcess() ? "" : Timeline.of(server.jdbi(), steady.stream()
        .map(x -> new Timeline.ClientView(x.runId(), instant(x.startNanos()), instant(x.endNanos()))).toList(),
        s.name() + ", " + steady.size() + " runs");
    model.forgetRuns();
    langChain4jToolNanos.clear();
    return new Result(s, loadBefore, Probes.loadAverage(), inWindow.size(), errors, problems,
        (windowEnd - windowStart) / 1e9, figures, db, pool, cpu, sampler.peakHeap.get(), sampler.peakRss.get(), pss,
        sampler.peakRunning.get(), peakModelCalls, timeline);
  }

  /** The wall-clock time of a {@link System#nanoTime()} reading of this process. */
  private static Instant instant(long nanos) {
    return Instant.now().plusNanos(nanos - System.nanoTime());
  }

  /** Memory at {@code runs} runs in flight at once (all started together, model latency as configured). */
  record InFlight(int runs, int peakRunning, int peakModelCalls, long heapUsedBytes, long liveHeapBytes,
      long heapMaxBytes, long rssBytes, long postgresPssBytes, int errors, double seconds, String load) {}

  InFlight inFlight(int runs, long latencyMillis) throws InterruptedException {
    model.configure(latencyMillis, 0);
    model.takePeakInFlight();
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      clients.add(Thread.ofVirtual().start(() -> samples.add(oneRun(Mode.HTTP, "inflight-" + counter.incrementAndGet()))));
    }
    // Measure when (nearly) all runs execute at once, or when their number stopped growing.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int peakRunning = 0;
    long lastRise = System.nanoTime();
    while (System.nanoTime() < deadline && peakRunning < runs * 0.98
        && System.nanoTime() - lastRise < Duration.ofSeconds(2).toNanos()) {
      int running = server.server.scheduler().runningCount();
      if (running > peakRunning) {
        peakRunning = running;
        lastRise = System.nanoTime();
      }
      Thread.sleep(10);
    }
    long heapUsed = Probes.heapUsedBytes();
    long rss = Probes.rssBytes();
    System.gc();
    long live = Probes.heapUsedBytes();
    long pss = Probes.postgresPssBytes(server.dataDir);
    int peakModelCalls = model.takePeakInFlight();
    for (Thread client : clients) {
      client.join(Duration.ofMinutes(3));
    }
    int errors = (int) samples.stream().filter(x -> !x.ok()).count() + (runs - samples.size());
    model.forgetRuns();
    return new InFlight(runs, peakRunning, peakModelCalls, heapUsed, live, Probes.heapMaxBytes(), rss, pss, errors,
        (System.nanoTime() - start) / 1e9, Probes.loadAverage());
  }

  private Sample oneRun(Mode mode, String tag) {
    long started = System.nanoTime();
    try {
      return switch (mode) {
        case HTTP -> {
          Api.Response response = server.api.startAndWait(server.agentId, tag);
          long ended = System.nanoTime();
          if (response.statusCode() != 200) {
            yield new Sample(tag, null, started, ended, false, "HTTP " + response.statusCode(), 0);
          }
          JsonNode run = Api.read(response.body());
          boolean ok = run.path("status").asText().equals("completed");
          yield new Sample(tag, run.path("id").asText(), started, ended, ok,
              ok ? null : "run " + run.path("status").asText() + ": " + run.path("error"), 0);
        }
        case HTTP_STREAM -> {
          Api.Streamed streamed = server.api.startAndStream(server.agentId, tag);
          yield new Sample(tag, streamed.runId(), started, System.nanoTime(), streamed.completed(), streamed.problem(),
              streamed.firstDeltaNanos());
        }
        case ENGINE -> engineRun(tag, started);
        case LANGCHAIN4J -> {
          LangChain4jAgent.Tools.takeToolNanos();
          String answer = langChain4j.run(tag);
          long ended = System.nanoTime();
          langChain4jToolNanos.put(tag, LangChain4jAgent.Tools.takeToolNanos());
          boolean ok = answer != null && answer.startsWith("tok0");
          yield new Sample(tag, null, started, ended, ok, ok ? null : "answer " + answer, 0);
        }
      };
    } catch (RuntimeException e) {
      return new Sample(tag, null, started, System.nanoTime(), false, e.toString(), 0);
    }
  }

  /** The same run without HTTP: the run service called directly, waiting as {@code ?wait=true} waits. */
  private Sample engineRun(String tag, long started) {
    Run run = server.server.runs().startRunOfAgent(server.caller, server.agentId, tag, Map.of(), null, Streaming.TEXT_AS_WRITTEN);
    try {
      Run current = server.server.runs().awaitSettled(server.caller, run.id(), Duration.ofMinutes(5));
      boolean ok = current.status() == io.aryabhatta.runs.RunStatus.COMPLETED;
      return new Sample(tag, run.id(), started, System.nanoTime(), ok, ok ? null : "run " + current.status(), 0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Sample(tag, run.id(), started, System.nanoTime(), false, "interrupted", 0);
    }
  }


  /** Joins the client's view of each run with its journal (step durations) and the model server's timings. */
  private List<RunFigures> figures(List<Sample> samples) {
    Map<String, double[]> byRun = new HashMap<>(); // model ms, tool ms, steps
    List<String> ids = samples.stream().map(Sample::runId).toList();
    server.jdbi().useHandle(h -> h.createQuery("""
            SELECT run_id, type, coalesce(duration_ms, 0) AS ms FROM run_steps WHERE run_id = ANY(:ids)""")
        .bindArray("ids", String.class, ids)
        .map((rs, c) -> {
          double[] f = byRun.computeIfAbsent(rs.getString("run_id"), k -> new double[3]);
          f[rs.getString("type").equals("llm_call") ? 0 : 1] += rs.getLong("ms");
          f[2]++;
          return null;
        })
        .list());
    List<RunFigures> figures = new ArrayList<>();
    for (Sample s : samples) {
      if (s.runId() == null) {
        // LangChain4j's: no journal; the model's time is the fake model's, the tools' as timed in-process.
        Long served = model.serviceNanos(s.tag());
        Long tools = langChain4jToolNanos.remove(s.tag());
        if (served != null) {
          figures.add(new RunFigures((s.endNanos() - s.startNanos()) / 1e6, served / 1e6,
              tools == null ? 0 : tools / 1e6, MODEL_CALLS_PER_RUN + 2, served / 1e6, null));
        }
        continue;
      }
      double[] f = byRun.getOrDefault(s.runId(), new double[3]);
      Long served = model.serviceNanos(s.tag());
      Long firstToken = model.firstTokenNanos(s.tag());
      Double ttft = s.firstDeltaNanos() > 0 && firstToken != null ? (s.firstDeltaNanos() - firstToken) / 1e6 : null;
      if (f[2] > 0) {
        figures.add(new RunFigures((s.endNanos() - s.startNanos()) / 1e6, f[0], f[1], (int) f[2],
            served == null ? f[0] : served / 1e6, ttft));
      }
    }
    return figures;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) {
      Thread.sleep(Duration.ofNanos(left));
    }
  }

  /** Peaks of heap, RSS and runs executing, sampled every 250 ms. */
  private final class Sampler {
    final AtomicLong peakHeap = new AtomicLong();
    final AtomicLong peakRss = new AtomicLong();
    final AtomicInteger peakRunning = new AtomicInteger();

    void loop(long until) {
      while (System.nanoTime() < until) {
        peakHeap.accumulateAndGet(Probes.heapUsedBytes(), Math::max);
        peakRss.accumulateAndGet(Probes.rssBytes(), Math::max);
        peakRunning.accumulateAndGet(server.server.scheduler().runningCount(), Math::max);
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
