package io.aryabhatta.model;

/** Token counts as reported by the provider. */
public record Usage(int promptTokens, int completionTokens, int totalTokens) {
  public static final Usage ZERO = new Usage(0, 0, 0);

  public Usage plus(Usage other) {
    return other == null ? this : new Usage(promptTokens + other.promptTokens,
        completionTokens + other.completionTokens, totalTokens + other.totalTokens);
  }
}
