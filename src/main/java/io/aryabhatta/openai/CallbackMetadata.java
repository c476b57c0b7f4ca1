package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.runs.RunService;
import java.util.List;

/**
 * A run's {@code callback_url}, given to the OpenAI-compatible API in the request's
 * {@code metadata}: the OpenAI SDKs send {@code metadata} as it is, where an unknown top-level
 * field would need each SDK's escape hatch.
 */
final class CallbackMetadata {
  static final String FIELD = "metadata.callback_url";

  private CallbackMetadata() {}

  /** The URL the request names, or null; a {@code metadata} that is not an object of strings is refused. */
  static String of(JsonNode body, List<FieldError> errors) {
    JsonNode metadata = body.get("metadata");
    if (metadata == null || metadata.isNull()) {
      return null;
    }
    if (!metadata.isObject()) {
      errors.add(new FieldError("metadata", "must be an object of strings"));
      return null;
    }
    JsonNode url = metadata.get("callback_url");
    if (url == null || url.isNull()) {
      return null;
    }
    if (!url.isTextual()) {
      errors.add(new FieldError(FIELD, "must be a string: the http or https URL told when the run ends"));
      return null;
    }
    return url.textValue();
  }

  /** The callback of the run a request starts. */
  static RunService.Callback callback(String url) {
    return new RunService.Callback(url, FIELD);
  }
}
