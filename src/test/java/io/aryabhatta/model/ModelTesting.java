package io.aryabhatta.model;

import io.aryabhatta.json.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import okhttp3.OkHttpClient;

/** What the model-client tests share: one HTTP client, requests, a retry policy that does not wait. */
final class ModelTesting {
  static final OkHttpClient HTTP = new OkHttpClient();

  private ModelTesting() {}

  /** Records every wait instead of waiting, so retry tests are fast and can check Retry-After. */
  static final class RecordingSleeper implements Sleeper {
    final List<Duration> waits = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void sleep(Duration duration) {
      waits.add(duration);
    }
  }

  static RetryPolicy noWaitRetries(RecordingSleeper sleeper, Clock clock) {
    return new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(60), sleeper, clock);
  }

  static ModelClient client(RecordingSleeper sleeper) {
    return new ModelClient(HTTP, Json.mapper(), noWaitRetries(sleeper, Clock.systemUTC()));
  }

  static ModelClient client() {
    return client(new RecordingSleeper());
  }

  static ChatRequest ask(String question, boolean stream) {
    return new ChatRequest("fake-model", List.of(ChatMessage.user(question)), List.of(), null, null, null, null, null,
        stream);
  }

  /** Collects the text deltas a call delivers. */
  static final class Deltas implements java.util.function.Consumer<String> {
    final List<String> received = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void accept(String text) {
      received.add(text);
    }

    String joined() {
      return String.join("", received);
    }
  }
}
