package io.aryabhatta.model;

import java.io.IOException;
import okio.BufferedSource;

/**
 * Reads server-sent events from a response body, one at a time, on the calling thread. Comment
 * lines (keep-alives such as {@code : OPENROUTER PROCESSING}) are skipped; a last event without
 * its blank line is still delivered at the end of the stream.
 */
final class SseReader {
  /** One event: its {@code event:} name (null when absent) and its joined {@code data:} lines. */
  record Event(String name, String data) {}

  private final BufferedSource source;

  SseReader(BufferedSource source) {
    this.source = source;
  }

  /** The next event, or null at the end of the stream. */
  Event next() throws IOException {
    String name = null;
    StringBuilder data = null;
    String line;
    while ((line = source.readUtf8Line()) != null) {
      if (line.isEmpty()) {
        if (data != null) {
          return new Event(name, data.toString());
        }
        name = null;
        continue;
      }
      if (line.startsWith(":")) {
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (field.equals("data")) {
        data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
      } else if (field.equals("event")) {
        name = value;
      }
    }
    return data == null ? null : new Event(name, data.toString());
  }
}
