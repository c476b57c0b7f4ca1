package io.aryabhatta.model;

/** The failure modes of a model call, each with the subclass of {@link ModelCallException} it becomes. */
public enum FailureKind {
  UNAUTHORIZED("unauthorized"),
  PAYMENT_REQUIRED("payment_required"),
  MODEL_NOT_FOUND("model_not_found"),
  REJECTED("rejected"),
  RATE_LIMITED("rate_limited"),
  PROVIDER_UNAVAILABLE("provider_unavailable"),
  TIMEOUT("timeout"),
  STREAM_INTERRUPTED("stream_interrupted"),
  INVALID_RESPONSE("invalid_response"),
  CANCELLED("cancelled");

  private final String wireName;

  FailureKind(String wireName) {
    this.wireName = wireName;
  }

  String wireName() {
    return wireName;
  }
}
