package io.aryabhatta.runs;

/**
 * Whether a run's model calls stream their text: as {@code message.delta} events while the model
 * writes (the HTTP API's runs, which a playground or an SSE client may follow), or only as the
 * whole answer once it is there (an embedding application reading the result).
 */
public enum Streaming {
  TEXT_AS_WRITTEN,
  WHOLE_ANSWER;

  boolean streamed() {
    return this == TEXT_AS_WRITTEN;
  }
}
