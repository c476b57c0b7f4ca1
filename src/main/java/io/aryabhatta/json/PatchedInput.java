package io.aryabhatta.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.errors.DomainException;

/**
 * How a PATCH changes a definition: the current input record as JSON, the merge patch applied,
 * the result read back as the record, to be validated like a new input.
 */
public final class PatchedInput {
  private PatchedInput() {}

  /**
   * {@code current} with {@code patch} merged in (a JSON Merge Patch, RFC 7386).
   *
   * @param kind what the input defines, as the error says it: "the patched agent is not valid"
   * @throws DomainException.ValidationFailed when the merged JSON does not read as a {@code type}
   */
  public static <T> T apply(ObjectMapper mapper, T current, JsonNode patch, Class<T> type, String kind) {
    JsonNode merged = JsonMergePatch.apply(mapper.valueToTree(current), patch);
    try {
      return mapper.treeToValue(merged, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new DomainException.ValidationFailed("body", "the patched " + kind + " is not valid");
    }
  }
}
