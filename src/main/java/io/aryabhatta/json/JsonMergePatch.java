package io.aryabhatta.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * RFC 7386 JSON Merge Patch: PATCH bodies name only what changes; objects merge field by field,
 * {@code null} removes a field (which then takes its default), anything else replaces.
 */
public final class JsonMergePatch {
  private JsonMergePatch() {}

  public static JsonNode apply(JsonNode target, JsonNode patch) {
    if (patch == null || !patch.isObject()) {
      return patch;
    }
    ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy()
        : ((ObjectNode) patch).objectNode();
    patch.properties().forEach(entry -> {
      if (entry.getValue().isNull()) {
        result.remove(entry.getKey());
      } else {
        result.set(entry.getKey(), apply(result.get(entry.getKey()), entry.getValue()));
      }
    });
    return result;
  }
}
