package io.aryabhatta.db;

/**
 * Text as PostgreSQL can store it. A NUL character (U+0000) is refused in {@code text} columns and,
 * as a JSON escape, in {@code jsonb}; a tool's answer or a model's may contain one, and
 * refusing the write would fail the step every time it is tried. Each NUL becomes U+FFFD, the
 * replacement character, which says that a character was replaced.
 */
public final class StorableText {
  public static final char REPLACEMENT = '\uFFFD';

  private StorableText() {}

  /** A value for a {@code text} column. */
  public static String text(String value) {
    return value.indexOf('\0') < 0 ? value : value.replace('\0', REPLACEMENT);
  }

  /**
   * A JSON text for a {@code jsonb} column: each escape of U+0000 becomes an escape of U+FFFD. An
   * escape is a backslash that is not itself escaped, so a string holding the six characters of
   * such an escape as text (a backslash written as two) is kept as it is.
   */
  public static String json(String value) {
    String text = text(value);
    int found = text.indexOf("\\u0000");
    if (found < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int copied = 0;
    for (int i = found; i >= 0; i = text.indexOf("\\u0000", i + 1)) {
      if (isEscape(text, i)) {
        out.append(text, copied, i).append("\\ufffd");
        copied = i + 6;
      }
    }
    return out.append(text, copied, text.length()).toString();
  }

  /** The backslash at {@code at} starts an escape when an even number of backslashes comes before it. */
  private static boolean isEscape(String text, int at) {
    int backslashes = 0;
    for (int i = at - 1; i >= 0 && text.charAt(i) == '\\'; i--) {
      backslashes++;
    }
    return backslashes % 2 == 0;
  }
}
