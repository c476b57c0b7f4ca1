package io.aryabhatta.knowledge;

/** Cosine similarity of embeddings, and their text form for a PostgreSQL {@code real[]}. */
final class Vectors {
  private Vectors() {}

  static double norm(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    return Math.sqrt(sum);
  }

  /** Cosine of {@code query} (of norm {@code queryNorm}) and {@code stored}; 0 when either is zero or they differ in size. */
  static double cosine(float[] query, double queryNorm, Float[] stored) {
    if (stored.length != query.length || queryNorm == 0) {
      return 0;
    }
    double dot = 0;
    double norm = 0;
    for (int i = 0; i < query.length; i++) {
      float s = stored[i];
      dot += (double) query[i] * s;
      norm += (double) s * s;
    }
    return norm == 0 ? 0 : dot / (queryNorm * Math.sqrt(norm));
  }

  /** {@code {0.1,0.2,…}}: bound as text and cast to {@code real[]}. */
  static String literal(float[] v) {
    StringBuilder text = new StringBuilder(v.length * 10).append('{');
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        text.append(',');
      }
      text.append(v[i]);
    }
    return text.append('}').toString();
  }
}
