package io.aryabhatta.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmark's own threads (the fake model's, the clients'), platform threads with names of
 * their own, so that their CPU time can be told from the platform's: the process's CPU time less
 * theirs is what the server (or the in-process framework) spent.
 */
final class BenchThreads {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final Set<Thread> ALL = ConcurrentHashMap.newKeySet();

  private BenchThreads() {}

  static ThreadFactory factory(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return work -> start(prefix + count.incrementAndGet(), work, false);
  }

  /** A platform thread of the benchmark, started at once when {@code start} is true. */
  static Thread start(String name, Runnable work, boolean start) {
    Thread thread = Thread.ofPlatform().name(name).daemon().unstarted(work);
    ALL.add(thread);
    if (start) {
      thread.start();
    }
    return thread;
  }

  /**
   * CPU time, so far, of the living benchmark threads whose names start with {@code prefix}, and of
   * the JDK HTTP server's dispatcher when the prefix is the fake model's.
   */
  static long cpuNanos(String prefix) {
    long total = 0;
    ALL.removeIf(t -> t.getState() == Thread.State.TERMINATED);
    for (Thread thread : ALL) {
      if (thread.getName().startsWith(prefix)) {
        total += Math.max(0, THREADS.getThreadCpuTime(thread.threadId()));
      }
    }
    if (prefix.equals(MODEL)) {
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        if (thread.getName().startsWith("HTTP-Dispatcher")) {
          total += Math.max(0, THREADS.getThreadCpuTime(thread.threadId()));
        }
      }
    }
    return total;
  }

  static final String MODEL = "bench-model-";
  static final String CLIENT = "bench-client-";
}
