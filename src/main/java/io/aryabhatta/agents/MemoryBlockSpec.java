package io.aryabhatta.agents;

/**
 * A memory block an agent keeps per memory key: its label (what the model calls it), the most
 * characters it may hold, and what it is for (shown to the model).
 */
public record MemoryBlockSpec(String label, Integer limit, String description) {
  public static final int DEFAULT_LIMIT = 2_000;

  public int limitOrDefault() {
    return limit == null ? DEFAULT_LIMIT : limit;
  }
}
