package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Replaces the secret values sent to a tool (HTTP target or MCP server) with {@code ***} in
 * anything shown afterwards, also in their URL-encoded (path and form) and JSON-escaped forms (also
 * with {@code \/}), since a target may echo a secret back in any of them. Longest values first, so
 * a secret containing another is masked whole.
 */
public record SecretRedaction(List<String> values) {
  public static SecretRedaction of(Collection<String> values) {
    return new SecretRedaction(values.stream().filter(v -> !v.isEmpty())
        .sorted(Comparator.comparingInt(String::length).reversed()).toList());
  }

  public String apply(String text) {
    if (text == null) {
      return null;
    }
    String redacted = text;
    for (String secret : values) {
      String quoted = JsonNodeFactory.instance.textNode(secret).toString();
      String jsonEscaped = quoted.substring(1, quoted.length() - 1);
      for (String form : List.of(secret, Templates.encodePathSegment(secret),
          URLEncoder.encode(secret, StandardCharsets.UTF_8), jsonEscaped, jsonEscaped.replace("/", "\\/"))) {
        redacted = redacted.replace(form, "***");
      }
    }
    return redacted;
  }
}
