package io.aryabhatta.tracing;

import io.aryabhatta.model.ChatResult;

/** One model call, as a span; each method ends it. */
public interface ModelCallSpan {
  ModelCallSpan OFF = NoTracing.INSTANCE;

  void answered(ChatResult result);

  /** The message goes into the span only with content on: a provider's error may quote the request or a key. */
  void failed(String errorType, String message);

  void cancelled();
}
