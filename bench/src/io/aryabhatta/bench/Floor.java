package io.aryabhatta.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Locale;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * What the machine itself charges for a durable step, measured on the benchmark's own database
 * with plain JDBC: a round trip and a commit (a WAL flush), back to back and after a second of
 * idleness (as after a model call of 1 s), and a commit after shorter pauses (at 100 concurrent
 * runs, the node commits every few milliseconds). A step the platform journals durably pays at
 * least one fenced commit after the model's wait.
 */
final class Floor {
  private static final int IDLE_SAMPLES = 8;
  /** Pauses before a commit, in ms, and how many commits each is measured with. */
  private static final int[] PAUSES = {5, 20, 100};
  private static final int[] PAUSE_SAMPLES = {100, 50, 20};

  private Floor() {}

  /** @param pausedCommitMs a commit's median after each of {@link #PAUSES} */
  record Figures(double hotRoundTripMs, double idleRoundTripMs, double hotCommitMs, double idleCommitMs,
      double[] pausedCommitMs) {}

  /** The floor on a platform thread and on a virtual thread (as the server's run loops and requests use). */
  record Both(Figures platform, Figures virtual) {}

  static Both measureBoth(Jdbi jdbi) throws InterruptedException {
    Figures platform = measure(jdbi);
    Figures[] virtual = new Figures[1];
    Thread thread = Thread.ofVirtual().start(() -> {
      try {
        virtual[0] = measure(jdbi);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    thread.join();
    return new Both(platform, virtual[0]);
  }

  static Figures measure(Jdbi jdbi) throws InterruptedException {
    try (Handle h = jdbi.open()) {
      Connection c = h.getConnection();
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, v text)");
      }
      try (PreparedStatement select = c.prepareStatement("SELECT 1");
           PreparedStatement insert = c.prepareStatement("INSERT INTO bench_floor (v) VALUES ('x')")) {
        for (int i = 0; i < 500; i++) {
          select.executeQuery().close();
        }
        double hotRoundTrip = median(500, () -> select.executeQuery().close());
        Work commit = () -> {
          c.setAutoCommit(false);
          insert.executeUpdate();
          c.commit();
          c.setAutoCommit(true);
        };
        double hotCommit = median(300, commit);
        double[] pausedCommit = new double[PAUSES.length];
        for (int p = 0; p < PAUSES.length; p++) {
          double[] samples = new double[PAUSE_SAMPLES[p]];
          for (int i = 0; i < samples.length; i++) {
            Thread.sleep(PAUSES[p]);
            samples[i] = time(commit);
          }
          pausedCommit[p] = median(samples);
        }
        double[] idleRoundTrip = new double[IDLE_SAMPLES];
        double[] idleCommit = new double[IDLE_SAMPLES];
        for (int i = 0; i < IDLE_SAMPLES; i++) {
          Thread.sleep(1000);
          idleRoundTrip[i] = time(() -> select.executeQuery().close());
          Thread.sleep(1000);
          idleCommit[i] = time(commit);
        }
        try (Statement s = c.createStatement()) {
          s.execute("DROP TABLE bench_floor");
        }
        return new Figures(hotRoundTrip, median(idleRoundTrip), hotCommit, median(idleCommit), pausedCommit);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String describe(Both both) {
    Figures p = both.platform();
    Figures v = both.virtual();
    return String.format(Locale.ROOT, """

        #### The machine's floor (plain JDBC on the benchmark's database, medians)

        | | back to back | after 1 s idle | on a virtual thread: back to back | after 1 s idle |
        |---|---:|---:|---:|---:|
        | round trip (`SELECT 1`) | %.3f ms | %.3f ms | %.3f ms | %.3f ms |
        | insert + commit (WAL flush) | %.3f ms | %.3f ms | %.3f ms | %.3f ms |

        | insert + commit after a pause of | 0 | 5 ms | 20 ms | 100 ms | 1 s |
        |---|---:|---:|---:|---:|---:|
        | platform thread | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms |
        | virtual thread | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms |
        """, p.hotRoundTripMs(), p.idleRoundTripMs(), v.hotRoundTripMs(), v.idleRoundTripMs(),
        p.hotCommitMs(), p.idleCommitMs(), v.hotCommitMs(), v.idleCommitMs(),
        p.hotCommitMs(), p.pausedCommitMs()[0], p.pausedCommitMs()[1], p.pausedCommitMs()[2], p.idleCommitMs(),
        v.hotCommitMs(), v.pausedCommitMs()[0], v.pausedCommitMs()[1], v.pausedCommitMs()[2], v.idleCommitMs());
  }

  private interface Work {
    void run() throws SQLException;
  }

  private static double time(Work work) {
    long started = System.nanoTime();
    try {
      work.run();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return (System.nanoTime() - started) / 1e6;
  }

  private static double median(int samples, Work work) {
    double[] values = new double[samples];
    for (int i = 0; i < samples; i++) {
      values[i] = time(work);
    }
    return median(values);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
