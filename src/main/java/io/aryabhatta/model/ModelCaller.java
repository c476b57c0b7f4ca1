package io.aryabhatta.model;

import java.util.function.Consumer;

/**
 * What the agent loop needs of a model: one chat completion, its text passed on as it streams.
 * {@link ModelClient} is the real one; tests of the loop give it scripted answers.
 */
@FunctionalInterface
public interface ModelCaller {
  /**
   * @throws ModelCallException when the provider fails, after the caller's own retries, or the
   *     call is cancelled
   */
  ChatResult complete(ModelEndpoint endpoint, WrittenRequest request, Consumer<String> onTextDelta);
}
