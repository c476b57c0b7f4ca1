package io.aryabhatta.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecutionTest {
  private final Execution execution = new Execution(Thread.currentThread());

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  @Test
  void a_cancel_during_a_model_call_interrupts_it() {
    execution.modelCall(true);
    execution.interruptModelCall();
    assertThat(Thread.interrupted()).isTrue();
  }

  @Test
  void a_cancel_that_came_before_the_model_call_interrupts_it_as_it_starts() {
    execution.interruptModelCall();
    assertThat(Thread.currentThread().isInterrupted()).as("nothing to interrupt yet").isFalse();

    execution.modelCall(true);

    assertThat(Thread.interrupted()).isTrue();
  }

  @Test
  void without_a_cancel_nothing_is_interrupted() {
    execution.modelCall(true);
    execution.modelCall(false);
    execution.modelCall(true);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
