package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.tools.Templates.MissingValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;

/** Builds the request of one {@code http} tool call from its {@link HttpToolSpec}. */
final class HttpToolRequests {
  private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD");
  private static final Set<String> ARGUMENTS_AS_BODY = Set.of("POST", "PUT", "PATCH");
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  private HttpToolRequests() {}

  /**
   * @throws MissingValue when a template needs an argument or secret that is not there
   * @throws InvalidSpec when the filled-in request cannot be sent (bad method, URL or header)
   */
  static Request build(HttpToolSpec spec, JsonNode arguments, Templates templates, String idempotencyKey)
      throws MissingValue, InvalidSpec {
    String method = spec.method() == null ? "GET" : spec.method().trim().toUpperCase(Locale.ROOT);
    if (!METHODS.contains(method)) {
      throw new InvalidSpec("this tool's HTTP method '" + spec.method() + "' is not supported");
    }
    HttpUrl base = HttpUrl.parse(templates.url(spec.url() == null ? "" : spec.url()));
    if (base == null) {
      throw new InvalidSpec("this tool's URL is not a valid http(s) URL once its placeholders are filled in");
    }
    HttpUrl.Builder url = base.newBuilder();
    for (Map.Entry<String, String> query : new TreeMap<>(spec.query()).entrySet()) {
      for (String value : values(query.getValue(), templates)) {
        url.addQueryParameter(query.getKey(), value);
      }
    }
    Headers headers = headers(spec.headers(), templates);
    RequestBody body = null;
    boolean bodyAllowed = !method.equals("GET") && !method.equals("HEAD");
    if (spec.body() != null && !spec.body().isNull() && bodyAllowed) {
      JsonNode filled = templates.json(spec.body());
      body = jsonBody(filled == null ? "null" : filled.toString(), headers);
    } else if (ARGUMENTS_AS_BODY.contains(method)) {
      body = jsonBody(arguments.toString(), headers);
    } else if (spec.body() == null || spec.body().isNull()) {
      addUnusedArgumentsAsQuery(url, arguments, templates.usedArguments());
    }
    Request.Builder request = new Request.Builder().url(url.build()).headers(headers).method(method, body);
    if (headers.get("User-Agent") == null) {
      request.header("User-Agent", ToolExecutor.USER_AGENT);
    }
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    return request.build();
  }

  /** A value template: a whole {@code {param}} gives one value per array element, or none when absent. */
  private static List<String> values(String template, Templates templates) throws MissingValue {
    Optional<String> whole = templates.wholeParameter(template);
    if (whole.isEmpty()) {
      return List.of(templates.text(template));
    }
    return templates.argument(whole.get()).map(HttpToolRequests::asTexts).orElse(List.of());
  }

  private static List<String> asTexts(JsonNode value) {
    if (!value.isArray()) {
      return List.of(Templates.asText(value));
    }
    List<String> texts = new ArrayList<>();
    value.forEach(element -> texts.add(Templates.asText(element)));
    return texts;
  }

  private static Headers headers(Map<String, String> templates, Templates filler) throws MissingValue, InvalidSpec {
    Headers.Builder headers = new Headers.Builder();
    for (Map.Entry<String, String> header : new TreeMap<>(templates).entrySet()) {
      for (String value : values(header.getValue(), filler)) {
        try {
          headers.add(header.getKey(), value);
        } catch (IllegalArgumentException e) {
          throw new InvalidSpec("header '" + header.getKey() + "' would contain characters not allowed in a header");
        }
      }
    }
    return headers.build();
  }

  private static RequestBody jsonBody(String json, Headers headers) {
    String declared = headers.get("Content-Type");
    MediaType type = declared == null ? null : MediaType.parse(declared);
    return RequestBody.create(json.getBytes(StandardCharsets.UTF_8), type == null ? JSON : type);
  }

  private static void addUnusedArgumentsAsQuery(HttpUrl.Builder url, JsonNode arguments, Set<String> used) {
    for (Map.Entry<String, JsonNode> argument : new TreeMap<>(toMap(arguments)).entrySet()) {
      if (!used.contains(argument.getKey()) && !argument.getValue().isNull()) {
        for (String value : asTexts(argument.getValue())) {
          url.addQueryParameter(argument.getKey(), value);
        }
      }
    }
  }

  private static Map<String, JsonNode> toMap(JsonNode object) {
    Map<String, JsonNode> fields = new TreeMap<>();
    object.fields().forEachRemaining(field -> fields.put(field.getKey(), field.getValue()));
    return fields;
  }

  /** The tool's definition cannot produce a valid request. */
  static final class InvalidSpec extends Exception {
    InvalidSpec(String message) {
      super(message);
    }
  }
}
