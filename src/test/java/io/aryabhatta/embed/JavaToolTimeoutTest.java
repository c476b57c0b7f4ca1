package io.aryabhatta.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.BuiltinTools;
import io.aryabhatta.tools.McpToolCaller;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolExecutor;
import io.aryabhatta.tools.ToolOutcome;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/** A Java tool runs under its timeout, executed by the real {@link ToolExecutor}. */
class JavaToolTimeoutTest {
  private static final String NO_ARGUMENTS = "{\"type\": \"object\"}";

  private final ObjectMapper mapper = Json.mapper();
  private final ToolContext context = new ToolContext("ws", "call-1");
  private final CountDownLatch handlerInterrupted = new CountDownLatch(1);

  @Test
  void a_tool_that_does_not_return_within_its_timeout_has_an_unknown_outcome_and_is_interrupted() throws Exception {
    JavaTool slow = JavaTool.of("slow", "sleeps", NO_ARGUMENTS, (arguments, call) -> sleep(Duration.ofSeconds(3)))
        .timeout(Duration.ofMillis(300));

    long started = System.nanoTime();
    ToolOutcome outcome = execute(slow);
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;

    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.outcomeUnknown()).isTrue();
    assertThat(outcome.transientFailure()).isTrue();
    assertThat(outcome.result()).startsWith("outcome unknown: the tool did not return within 300 ms");
    assertThat(elapsedMs).isBetween(250L, 2_000L);
    assertThat(handlerInterrupted.await(2, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void a_tool_that_returns_within_its_timeout_gives_its_result() {
    JavaTool quick = JavaTool.of("quick", "answers", NO_ARGUMENTS, (arguments, call) -> {
      sleep(Duration.ofMillis(50));
      return "done for " + call.idempotencyKey();
    }).timeout(Duration.ofSeconds(5));

    ToolOutcome outcome = execute(quick);

    assertThat(outcome.ok()).isTrue();
    assertThat(outcome.result()).isEqualTo("done for call-1");
  }

  @Test
  void a_tool_that_fails_in_time_is_a_plain_error() {
    JavaTool failing = JavaTool.of("failing", "fails", NO_ARGUMENTS, arguments -> {
      throw new ToolError("no such order");
    });

    ToolOutcome outcome = execute(failing);

    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.outcomeUnknown()).isFalse();
    assertThat(outcome.result()).isEqualTo("no such order");
  }

  @Test
  void cancelling_the_caller_interrupts_the_tool_and_keeps_the_callers_interrupt() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    JavaTool slow = JavaTool.of("slow", "sleeps", NO_ARGUMENTS, (arguments, call) -> {
      running.countDown();
      return sleep(Duration.ofSeconds(10));
    });
    AtomicReference<ToolOutcome> outcome = new AtomicReference<>();
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    Thread caller = Thread.ofVirtual().start(() -> {
      outcome.set(execute(slow));
      stillInterrupted.set(Thread.currentThread().isInterrupted());
    });

    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
    caller.interrupt();

    assertThat(caller.join(Duration.ofSeconds(2))).isTrue();
    assertThat(outcome.get().ok()).isFalse();
    assertThat(outcome.get().outcomeUnknown()).isFalse();
    assertThat(outcome.get().result()).startsWith("cancelled");
    assertThat(stillInterrupted).isTrue();
    assertThat(handlerInterrupted.await(2, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void the_timeout_is_60_seconds_unless_set_and_must_be_positive() {
    JavaTool tool = JavaTool.of("t", "t", NO_ARGUMENTS, arguments -> "ok");

    assertThat(tool.timeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(tool.timeout(Duration.ofMillis(1)).timeout()).isEqualTo(Duration.ofMillis(1));
    assertThatThrownBy(() -> tool.timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be positive");
    assertThatThrownBy(() -> tool.timeout(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tool.timeout(null)).isInstanceOf(NullPointerException.class);
  }

  /** Sleeps, noting an interruption; returns what it slept. */
  private String sleep(Duration duration) throws InterruptedException {
    try {
      Thread.sleep(duration);
      return "slept " + duration;
    } catch (InterruptedException e) {
      handlerInterrupted.countDown();
      throw e;
    }
  }

  private ToolOutcome execute(JavaTool tool) {
    BuiltinTools builtins = new BuiltinTools(mapper, List.of(tool.toInProcessTool(mapper)));
    ToolExecutor executor = new ToolExecutor(new OkHttpClient(), mapper, (workspace, name) -> Optional.empty(),
        new AddressGuard(List.of()), Clock.systemUTC(), ToolExecutor.DEFAULT_MAX_RESPONSE_BYTES, McpToolCaller.NONE,
        builtins);
    ToolDefinition definition = builtins.named(tool.name()).orElseThrow();
    return executor.execute(definition, mapper.createObjectNode(), context);
  }
}
