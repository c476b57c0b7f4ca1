package io.aryabhatta.mcp;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Replaces the secret values sent to an MCP server with {@code ***} in anything shown afterwards,
 * also in their URL-encoded and JSON-escaped forms, since a server may echo them in any of them.
 */
record SecretRedaction(List<String> values) {
  static SecretRedaction of(Collection<String> values) {
    return new SecretRedaction(values.stream().filter(v -> !v.isEmpty())
        .sorted(Comparator.comparingInt(String::length).reversed()).toList());
  }

  String apply(String text) {
    if (text == null) {
      return null;
    }
    String redacted = text;
    for (String secret : values) {
      String quoted = JsonNodeFactory.instance.textNode(secret).toString();
      String jsonEscaped = quoted.substring(1, quoted.length() - 1);
      for (String form : List.of(secret, URLEncoder.encode(secret, StandardCharsets.UTF_8), jsonEscaped,
          jsonEscaped.replace("/", "\\/"))) {
        redacted = redacted.replace(form, "***");
      }
    }
    return redacted;
  }
}
