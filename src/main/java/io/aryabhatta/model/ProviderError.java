package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a provider said in an error body. Providers disagree on the shape: {@code error} may be a
 * string, an object with {@code message}, or a list; vLLM's legacy body is flat; FastAPI uses
 * {@code detail}; {@code code} may be a string, a number or null.
 *
 * @param message the provider's message, or null
 * @param code {@code error.code} as text (e.g. {@code model_not_supported}), or null
 * @param type {@code error.type} or TGI's {@code error_type}, or null
 * @param statusCode a status carried in the body (Groq's {@code status_code}), or null
 */
record ProviderError(String message, String code, String type, Integer statusCode) {
  private static final int LONGEST_MESSAGE = 500;
  private static final Pattern UNKNOWN_MODEL =
      Pattern.compile("(?i)model.*(not supported|does not exist|not found|unknown)");

  static final ProviderError NONE = new ProviderError(null, null, null, null);

  /** Reads an error body; a body that is not JSON becomes the message itself, shortened. */
  static ProviderError parse(ObjectMapper mapper, String body, String headerMessage) {
    JsonNode json = readJson(mapper, body);
    ProviderError parsed = json == null ? NONE : fromJson(json);
    if (parsed.message == null) {
      String fallback = headerMessage != null ? headerMessage : json == null ? plainText(body) : null;
      parsed = new ProviderError(fallback, parsed.code, parsed.type, parsed.statusCode);
    }
    return parsed;
  }

  static ProviderError fromJson(JsonNode json) {
    JsonNode error = json.get("error");
    if (error != null && error.isArray() && !error.isEmpty()) {
      List<String> messages = new ArrayList<>();
      error.forEach(item -> messages.add(messageOf(item)));
      ProviderError first = fromErrorObject(error.get(0), json);
      return new ProviderError(shorten(String.join("; ", messages)), first.code, first.type, first.statusCode);
    }
    if (error != null && (error.isObject() || error.isTextual())) {
      return fromErrorObject(error, json);
    }
    return fromErrorObject(json, json);
  }

  boolean isInsufficientQuota() {
    return "insufficient_quota".equals(code) || "insufficient_quota".equals(type);
  }

  boolean saysModelIsUnknown() {
    return "model_not_supported".equals(code) || "model_not_found".equals(code)
        || (message != null && UNKNOWN_MODEL.matcher(message).find());
  }

  private static ProviderError fromErrorObject(JsonNode error, JsonNode outer) {
    String message = messageOf(error);
    if (message == null && error != outer) {
      message = messageOf(outer);
    }
    String code = firstText(error.get("code"), outer.get("code"));
    String type = firstText(error.get("type"), outer.get("error_type"), outer.get("type"));
    Integer status = firstInt(error.get("status_code"), outer.get("status_code"));
    return new ProviderError(shorten(message), code, type, status);
  }

  private static String messageOf(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    for (String field : List.of("message", "msg", "detail", "error")) {
      JsonNode value = node.get(field);
      if (value != null && value.isTextual() && !value.asText().isBlank()) {
        return value.asText();
      }
      if (value != null && (value.isArray() || value.isObject()) && !value.isEmpty()) {
        return value.toString();
      }
    }
    return null;
  }

  private static String firstText(JsonNode... candidates) {
    for (JsonNode node : candidates) {
      if (node != null && (node.isTextual() || node.isNumber()) && !node.asText().isBlank()) {
        return node.asText();
      }
    }
    return null;
  }

  private static Integer firstInt(JsonNode... candidates) {
    for (JsonNode node : candidates) {
      if (node != null && node.canConvertToInt() && node.isIntegralNumber()) {
        return node.asInt();
      }
    }
    return null;
  }

  private static JsonNode readJson(ObjectMapper mapper, String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      JsonNode json = mapper.readTree(body);
      return json != null && json.isObject() ? json : null;
    } catch (Exception notJson) {
      return null;
    }
  }

  private static String plainText(String body) {
    return body == null || body.isBlank() ? null : shorten(body.strip().replaceAll("\\s+", " "));
  }

  private static String shorten(String text) {
    if (text == null || text.length() <= LONGEST_MESSAGE) {
      return text;
    }
    return text.substring(0, LONGEST_MESSAGE) + "…";
  }
}
