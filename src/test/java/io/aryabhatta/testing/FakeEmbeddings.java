package io.aryabhatta.testing;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * Deterministic embeddings for tests: a text's words, each first replaced by the concept it
 * names (so that "automobile" and "car" are near, as a real model would place them), hashed
 * into {@value #DIMENSIONS} dimensions and normalized.
 */
public final class FakeEmbeddings {
  public static final int DIMENSIONS = 128;
  /** Words and the concept they stand for: what full-text search cannot see and a model can. */
  public static final Map<String, String> CONCEPTS = Map.ofEntries(
      Map.entry("automobile", "car"), Map.entry("vehicle", "car"), Map.entry("car", "car"),
      Map.entry("holiday", "vacation"), Map.entry("vacation", "vacation"), Map.entry("leave", "vacation"),
      Map.entry("salary", "pay"), Map.entry("wage", "pay"), Map.entry("pay", "pay"), Map.entry("payment", "pay"),
      Map.entry("laptop", "computer"), Map.entry("notebook", "computer"), Map.entry("computer", "computer"),
      Map.entry("physician", "doctor"), Map.entry("doctor", "doctor"), Map.entry("medic", "doctor"));

  private FakeEmbeddings() {}

  public static float[] of(String text) {
    float[] v = new float[DIMENSIONS];
    for (String word : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
      if (word.length() < 3) {
        continue;
      }
      String concept = CONCEPTS.getOrDefault(word, word);
      int h = java.util.Arrays.hashCode(concept.getBytes(StandardCharsets.UTF_8));
      v[Math.floorMod(h, DIMENSIONS)] += 1f;
      v[Math.floorMod(h * 31 + 7, DIMENSIONS)] += 0.5f;
    }
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    if (norm > 0) {
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (v[i] / Math.sqrt(norm));
      }
    }
    return v;
  }
}
