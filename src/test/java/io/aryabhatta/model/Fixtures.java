package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.testing.FakeModelServer;
import io.aryabhatta.testing.FakeModelServer.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The recorded provider payloads in {@code src/test/resources/fixtures} (what the Hugging Face
 * router and other OpenAI-compatible servers really send), served byte for byte.
 */
final class Fixtures {
  private static final String DIR = "/fixtures/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static String text(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name + " in src/test/resources" + DIR);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode json(String name) {
    try {
      return JSON.readTree(text(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A recorded SSE stream, as {@code text/event-stream}. */
  static Reply stream(String name) {
    return FakeModelServer.raw(200, "text/event-stream", text(name));
  }

  /** A recorded non-streamed body, as {@code application/json}. */
  static Reply body(String name) {
    return FakeModelServer.raw(200, "application/json", text(name));
  }

  /** A recorded error response ({@code errors/*.http}: status line, headers, blank line, body). */
  static Reply httpResponse(String name) {
    String raw = text("errors/" + name).replace("\r\n", "\n");
    int split = raw.indexOf("\n\n");
    String[] head = raw.substring(0, split).split("\n");
    String body = raw.substring(split + 2);
    int status = Integer.parseInt(head[0].split(" ")[1]);
    Reply reply = FakeModelServer.raw(status, "application/json", body);
    for (int i = 1; i < head.length; i++) {
      int colon = head[i].indexOf(':');
      reply = reply.withHeader(head[i].substring(0, colon).strip(), head[i].substring(colon + 1).strip());
    }
    return reply;
  }
}
