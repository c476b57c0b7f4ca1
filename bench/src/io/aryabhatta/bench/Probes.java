package io.aryabhatta.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/** Counters read from PostgreSQL, the server's /metrics, the JVM and /proc. */
final class Probes {
  private Probes() {}

  /**
   * PostgreSQL's cumulative counters: committed transactions, rows written (inserted, updated or
   * deleted), WAL flushes (fsyncs) and WAL bytes.
   */
  record DbCounters(long commits, long rowsWritten, long walSyncs, long walBytes, long nanos) {
    DbCounters minus(DbCounters earlier) {
      return new DbCounters(commits - earlier.commits, rowsWritten - earlier.rowsWritten,
          walSyncs - earlier.walSyncs, walBytes - earlier.walBytes, nanos - earlier.nanos);
    }
  }

  static DbCounters db(Jdbi jdbi) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT d.xact_commit AS commits, d.tup_inserted + d.tup_updated + d.tup_deleted AS rows_written,
                   w.wal_sync, w.wal_bytes
            FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()""")
        .map((rs, c) -> new DbCounters(rs.getLong("commits"), rs.getLong("rows_written"), rs.getLong("wal_sync"),
            rs.getLong("wal_bytes"), System.nanoTime()))
        .one());
  }

  /** The connection pool's acquire timer, from the server's Prometheus metrics. */
  record PoolCounters(double acquireSeconds, long acquires) {
    PoolCounters minus(PoolCounters earlier) {
      return new PoolCounters(acquireSeconds - earlier.acquireSeconds, acquires - earlier.acquires);
    }

    double meanMillis() {
      return acquires == 0 ? 0 : acquireSeconds * 1000 / acquires;
    }
  }

  static PoolCounters pool(Api api) {
    String text = api.getText("/metrics");
    return new PoolCounters(metric(text, "aryabhatta_db_connection_wait_seconds_sum"),
        (long) metric(text, "aryabhatta_db_connection_wait_seconds_count"));
  }

  private static double metric(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*} ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  static long heapUsedBytes() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static long heapMaxBytes() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
  }

  /** This JVM's resident set size. */
  static long rssBytes() {
    return statusField(Path.of("/proc/self/status"), "VmRSS");
  }

  /**
   * The proportional set size of the embedded PostgreSQL (postmaster and its children), counting
   * its shared buffers once rather than once per backend.
   */
  static long postgresPssBytes(Path dataDir) {
    try {
      Path pidFile = dataDir.resolve("postgres/postmaster.pid");
      long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
      long total = pss(postmaster);
      try (var procs = Files.list(Path.of("/proc"))) {
        for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
          if (parentOf(p) == postmaster) {
            total += pss(Long.parseLong(p.getFileName().toString()));
          }
        }
      }
      return total;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long parentOf(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[1]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long pss(long pid) {
    return statusField(Path.of("/proc/" + pid + "/smaps_rollup"), "Pss");
  }

  private static long statusField(Path file, String field) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(field + ":")) {
          List<String> parts = List.of(line.substring(field.length() + 1).trim().split("\\s+"));
          return Long.parseLong(parts.get(0)) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  /**
   * CPU time of this JVM, of all PostgreSQL processes, of the benchmark's own threads in this JVM
   * (the fake model's and the clients'), and of this JVM's JIT compiler threads, in nanoseconds.
   */
  record Cpu(long jvmNanos, long postgresNanos, long fakeModelNanos, long clientNanos, long jitNanos) {
    Cpu minus(Cpu earlier) {
      return new Cpu(jvmNanos - earlier.jvmNanos, postgresNanos - earlier.postgresNanos,
          fakeModelNanos - earlier.fakeModelNanos, clientNanos - earlier.clientNanos, jitNanos - earlier.jitNanos);
    }
  }

  /**
   * CPU time of this JVM's JIT compiler threads (C1 and C2), from {@code /proc/self/task}: compiling
   * is a cost of warming up, not of a step, and on a slow 2-core machine it goes on for minutes.
   */
  static long jitNanos() {
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          String name = Files.readString(task.resolve("comm")).strip();
          if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
            String stat = Files.readString(task.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          }
        } catch (IOException | RuntimeException e) {
          // A thread that ended while it was read.
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return ticks * 10_000_000L;
  }

  static Cpu cpu(Path dataDir) {
    long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
    long ticks = 0;
    try {
      long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).strip());
      ticks += cpuTicks(Path.of("/proc/" + postmaster));
      try (var procs = Files.list(Path.of("/proc"))) {
        for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
          if (parentOf(p) == postmaster) {
            ticks += cpuTicks(p);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      ticks = 0;
    }
    return new Cpu(jvm, ticks * 10_000_000L, // USER_HZ is 100 on Linux
        BenchThreads.cpuNanos(BenchThreads.MODEL), BenchThreads.cpuNanos(BenchThreads.CLIENT), jitNanos());
  }

  /** utime + stime + the same of exited children (backends that ended), in clock ticks. */
  private static long cpuTicks(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The 1-minute load average, noted with each measurement: the machine is shared. */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }
}
