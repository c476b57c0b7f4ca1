package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * How an {@code http} tool calls its target.
 *
 * @param url template with {@code {param}} placeholders (URL-encoded) and {@code {{secret.NAME}}}
 * @param headers header templates
 * @param query query parameter templates
 * @param body JSON body template, or null (POST/PUT/PATCH then send the arguments object)
 */
public record HttpToolSpec(String method, String url, Map<String, String> headers, Map<String, String> query,
    JsonNode body, int timeoutMs) {
  public HttpToolSpec {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    query = query == null ? Map.of() : Map.copyOf(query);
  }
}
