package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A tool as a client writes it (POST body, or the result of applying a PATCH); absent fields take
 * their defaults during validation.
 */
public record ToolInput(String name, String kind, String description, JsonNode parameters, HttpInput http,
    Boolean idempotent, Boolean requiresApproval) {

  /** The {@code http} part as written by the client. */
  public record HttpInput(String method, String url, Map<String, String> headers, Map<String, String> query,
      JsonNode body, Integer timeoutMs) {}
}
