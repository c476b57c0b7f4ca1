package io.aryabhatta.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DeliveryPolicyTest {
  @Test
  void waits_double_from_one_second_and_are_capped() {
    DeliveryPolicy policy = DeliveryPolicy.of(20, Duration.ofSeconds(30));

    assertThat(IntStream.rangeClosed(1, 5).mapToObj(policy::waitAfter))
        .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8),
            Duration.ofSeconds(16));
    assertThat(policy.waitAfter(12)).isEqualTo(Duration.ofMinutes(10));
    assertThat(policy.waitAfter(64)).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void attempts_are_bounded() {
    DeliveryPolicy policy = DeliveryPolicy.of(DeliveryPolicy.DEFAULT_MAX_ATTEMPTS, Duration.ofSeconds(30));

    assertThat(policy.allowsAnotherAfter(7)).isTrue();
    assertThat(policy.allowsAnotherAfter(8)).isFalse();
    assertThatThrownBy(() -> DeliveryPolicy.of(0, Duration.ofSeconds(30))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void an_attempt_takes_at_most_ten_seconds_or_a_third_of_the_lease() {
    assertThat(DeliveryPolicy.of(8, Duration.ofSeconds(30)).attemptTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(DeliveryPolicy.of(8, Duration.ofSeconds(120)).attemptTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(DeliveryPolicy.of(8, Duration.ofSeconds(9)).attemptTimeout()).isEqualTo(Duration.ofSeconds(3));
  }
}
