package io.aryabhatta.runs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EventNotifierTest {
  private final EventNotifier notifier = new EventNotifier();

  @Test
  void a_run_is_driven_and_unsettled_from_its_drive_until_a_settling_commits() {
    assertThat(notifier.drivenAndUnsettled("run-1")).isFalse();
    try (EventNotifier.Drive drive = notifier.driving("run-1")) {
      assertThat(notifier.drivenAndUnsettled("run-1")).isTrue();
      notifier.appended("run-1", false).run();
      assertThat(notifier.drivenAndUnsettled("run-1")).isTrue();
      notifier.appended("run-1", true).run();
      assertThat(notifier.drivenAndUnsettled("run-1")).isFalse();
    }
    assertThat(notifier.drivenAndUnsettled("run-1")).isFalse();
  }

  @Test
  void a_drive_that_ends_after_a_newer_drive_of_the_same_run_began_leaves_the_newer_one() {
    EventNotifier.Drive older = notifier.driving("run-1");
    notifier.notify("run-1");
    try (EventNotifier.Drive newer = notifier.driving("run-1")) {
      older.close();
      assertThat(notifier.drivenAndUnsettled("run-1")).isTrue();
    }
    assertThat(notifier.drivenAndUnsettled("run-1")).isFalse();
  }

  @Test
  void a_subscriber_that_found_the_run_unsettled_is_woken_by_the_settling() throws Exception {
    try (EventNotifier.Drive drive = notifier.driving("run-1");
        EventNotifier.Subscription subscription = notifier.subscribe("run-1")) {
      assertThat(notifier.drivenAndUnsettled("run-1")).isTrue();
      Thread.ofVirtual().start(() -> notifier.appended("run-1", true).run());
      long started = System.nanoTime();
      subscription.awaitSettling(10_000);
      assertThat(System.nanoTime() - started).isLessThan(5_000_000_000L);
    }
  }

  @Test
  void a_drive_that_ends_without_a_settling_wakes_the_waiters_to_read_the_run() throws Exception {
    EventNotifier.Drive drive = notifier.driving("run-1");
    try (EventNotifier.Subscription subscription = notifier.subscribe("run-1")) {
      Thread.ofVirtual().start(drive::close);
      long started = System.nanoTime();
      subscription.awaitSettling(10_000);
      assertThat(System.nanoTime() - started).isLessThan(5_000_000_000L);
      assertThat(subscription.takeSettled()).isNull();
    }
  }
}
