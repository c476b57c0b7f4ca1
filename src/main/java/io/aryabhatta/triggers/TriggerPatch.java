package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code PATCH /api/triggers/{id}}, checked field by field: a field present replaces the trigger's
 * (null clears it, or restores its default), an absent one keeps it. What the trigger is, its
 * agent and kind, cannot be changed.
 *
 * @param fields the fields given, by name, as sent
 */
public record TriggerPatch(Map<String, JsonNode> fields) {
  private static final Set<String> TEXT = Set.of("input_template", "conversation", "callback_url", "cron",
      "time_zone", "missed");
  private static final Set<String> FIXED = Set.of("agent_id", "kind");

  public static TriggerPatch parse(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw new DomainException.InvalidRequest("the request body must be a JSON object");
    }
    List<FieldError> errors = new ArrayList<>();
    Map<String, JsonNode> fields = new LinkedHashMap<>();
    body.properties().forEach(e -> {
      String name = e.getKey();
      JsonNode value = e.getValue();
      if (FIXED.contains(name)) {
        errors.add(new FieldError(name, "cannot be changed; create a new trigger and delete this one"));
      } else if (TEXT.contains(name)) {
        if (!value.isNull() && !value.isTextual()) {
          errors.add(new FieldError(name, "must be a string or null"));
        }
      } else if (!name.equals("variables_template")) {
        errors.add(new FieldError(name, "unknown field"));
      }
      fields.put(name, value);
    });
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new TriggerPatch(fields);
  }

  /** The trigger as it would be created with this patch applied, to be validated as a new one. */
  TriggerInput over(Trigger t) {
    return new TriggerInput(t.agentId(), t.kind().wire(), text("input_template", t.inputTemplate()),
        fields.containsKey("variables_template") ? nullIfNull(fields.get("variables_template")) : t.variablesTemplate(),
        text("conversation", t.conversation()), text("callback_url", t.callbackUrl()), text("cron", t.cron()),
        text("time_zone", t.timeZone()), text("missed", t.missed() == null ? null : t.missed().wire()));
  }

  /** A new expression or time zone: the schedule goes on from its first tick after now. */
  boolean reschedules() {
    return fields.containsKey("cron") || fields.containsKey("time_zone");
  }

  private String text(String name, String current) {
    if (!fields.containsKey(name)) {
      return current;
    }
    JsonNode value = fields.get(name);
    return value.isNull() ? null : value.textValue();
  }

  private static JsonNode nullIfNull(JsonNode node) {
    return node.isNull() ? null : node;
  }
}
