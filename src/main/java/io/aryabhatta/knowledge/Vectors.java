package io.aryabhatta.knowledge;

/** Cosine similarity of embeddings, and their stored form: float32 little-endian bytes. */
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
  static double cosine(float[] query, double queryNorm, byte[] stored) {
    if (stored.length != query.length * Float.BYTES || queryNorm == 0) {
      return 0;
    }
    java.nio.FloatBuffer floats = java.nio.ByteBuffer.wrap(stored).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    double dot = 0;
    double norm = 0;
    for (int i = 0; i < query.length; i++) {
      float s = floats.get(i);
      dot += (double) query[i] * s;
      norm += (double) s * s;
    }
    return norm == 0 ? 0 : dot / (queryNorm * Math.sqrt(norm));
  }

  static byte[] bytes(float[] v) {
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(v.length * Float.BYTES)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(v);
    return buffer.array();
  }
}
