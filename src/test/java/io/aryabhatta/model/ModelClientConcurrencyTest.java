package io.aryabhatta.model;

import static io.aryabhatta.model.ModelTesting.ask;
import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.json.Json;
import io.aryabhatta.testing.FakeModelServer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Deltas in order and as they arrive, cancellation by interrupt, many calls at once. */
class ModelClientConcurrencyTest {
  private FakeModelServer fake;
  private final ModelClient client = ModelTesting.client();

  @BeforeEach
  void start() {
    fake = FakeModelServer.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void streamed_deltas_arrive_in_order_while_the_stream_is_still_running() {
    String text = "The quick brown fox jumps over the lazy dog";
    fake.enqueue(FakeModelServer.text(text).withChunkDelay(Duration.ofMillis(30)));
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    List<String> deltas = new CopyOnWriteArrayList<>();

    long started = System.nanoTime();
    ChatResult result = client.complete(fake.endpoint(), ask("q", true), delta -> {
      deltas.add(delta);
      arrivals.add(System.nanoTime());
    });
    long finished = System.nanoTime();

    assertThat(String.join("", deltas)).isEqualTo(text);
    assertThat(deltas).hasSizeGreaterThan(5);
    assertThat(result.content()).isEqualTo(text);
    assertThat(TimeUnit.NANOSECONDS.toMillis(finished - arrivals.getFirst()))
        .as("the first delta came well before the end of the stream").isGreaterThan(200);
    assertThat(arrivals.getFirst()).isGreaterThan(started);
  }

  @Test
  void interrupting_the_caller_cancels_a_call_waiting_for_the_response() throws Exception {
    fake.enqueue(FakeModelServer.text("too late").withDelay(Duration.ofSeconds(20)));

    Outcome outcome = callAndInterrupt(ask("q", false), () -> !fake.requests().isEmpty());

    assertThat(outcome.error.get()).isInstanceOf(ModelCallException.Cancelled.class);
    assertThat(outcome.error.get().getMessage()).contains("cancelled");
    assertThat(outcome.millisAfterInterrupt).isLessThan(1000);
  }

  @Test
  void interrupting_the_caller_cancels_a_stream_in_the_middle() throws Exception {
    fake.enqueue(FakeModelServer.text("a very long answer that keeps on streaming for a while")
        .withChunkDelay(Duration.ofMillis(300)));
    List<String> deltas = new CopyOnWriteArrayList<>();

    Outcome outcome = callAndInterrupt(ask("q", true), deltas::add, () -> !deltas.isEmpty());

    assertThat(outcome.error.get()).isInstanceOf(ModelCallException.Cancelled.class);
    assertThat(outcome.error.get().attempts()).hasSize(1);
    assertThat(outcome.millisAfterInterrupt).isLessThan(1000);
    assertThat(String.join("", deltas)).isNotEqualTo("a very long answer that keeps on streaming for a while");
  }

  @Test
  void interrupting_the_caller_during_the_backoff_stops_retrying() throws Exception {
    ModelClient patient = new ModelClient(ModelTesting.HTTP, Json.mapper(), new RetryPolicy(Duration.ofSeconds(30),
        Duration.ofSeconds(30), Duration.ofSeconds(60), Sleeper.REAL, Clock.systemUTC()));
    fake.failTimes(3, 503);

    Outcome outcome = callAndInterrupt(patient, ask("q", false), delta -> {}, () -> !fake.requests().isEmpty());

    assertThat(outcome.error.get()).isInstanceOf(ModelCallException.Cancelled.class);
    assertThat(outcome.error.get().attempts()).extracting(Attempt::statusCode).containsExactly(503);
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void two_hundred_concurrent_streaming_calls_on_virtual_threads() throws Exception {
    fake.respondWith(request -> FakeModelServer.text("answer to " + request.lastMessageContent()));
    int calls = 200;
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<String> answers = new CopyOnWriteArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < calls; i++) {
      String question = "question " + i;
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          go.await();
          StringBuilder streamed = new StringBuilder();
          ChatResult result = client.complete(fake.endpoint(), ask(question, true), streamed::append);
          assertThat(result.content()).isEqualTo("answer to " + question).isEqualTo(streamed.toString());
          assertThat(result.usage()).isNotNull();
          answers.add(result.content());
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    go.countDown();
    for (Thread thread : threads) {
      assertThat(thread.join(Duration.ofSeconds(20))).isTrue();
    }

    assertThat(failures).isEmpty();
    assertThat(answers).hasSize(calls).doesNotHaveDuplicates();
    assertThat(fake.requests()).hasSize(calls);
  }

  // ---- running a call on a virtual thread and interrupting it ----

  private record Outcome(AtomicReference<ModelCallException> error, long millisAfterInterrupt) {}

  private Outcome callAndInterrupt(ChatRequest request, java.util.function.BooleanSupplier inFlight)
      throws InterruptedException {
    return callAndInterrupt(client, request, delta -> {}, inFlight);
  }

  private Outcome callAndInterrupt(ChatRequest request, java.util.function.Consumer<String> deltas,
      java.util.function.BooleanSupplier inFlight) throws InterruptedException {
    return callAndInterrupt(client, request, deltas, inFlight);
  }

  private Outcome callAndInterrupt(ModelClient caller, ChatRequest request, java.util.function.Consumer<String> deltas,
      java.util.function.BooleanSupplier inFlight) throws InterruptedException {
    AtomicReference<ModelCallException> error = new AtomicReference<>();
    AtomicLong failedAt = new AtomicLong();
    Thread thread = Thread.ofVirtual().start(() -> {
      try {
        caller.complete(fake.endpoint(), request, deltas);
      } catch (ModelCallException e) {
        failedAt.set(System.nanoTime());
        error.set(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!inFlight.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100); // let the call block inside the HTTP exchange or the backoff
    long interruptedAt = System.nanoTime();
    thread.interrupt();
    assertThat(thread.join(Duration.ofSeconds(5))).as("the call ended after the interrupt").isTrue();
    return new Outcome(error, TimeUnit.NANOSECONDS.toMillis(failedAt.get() - interruptedAt));
  }
}
