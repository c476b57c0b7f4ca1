package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.errors.FieldError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fills a trigger's templates from the JSON that started the run: {@code {{payload.order.id}}} is
 * that field's value (text as it is, other values as JSON; a number segment indexes an array),
 * {@code {{payload}}} the whole payload. Each template is scanned once, so text taken from the
 * payload is never filled again.
 */
final class PayloadTemplate {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([^{}]*?)\\s*}}");
  private static final Pattern REFERENCE = Pattern.compile("payload(\\.[^.\\s]+)*");

  private PayloadTemplate() {}

  /** The references of {@code template} that are not {@code payload} or a path in it. */
  static List<String> invalidReferences(String template) {
    List<String> invalid = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(template);
    while (m.find()) {
      if (!REFERENCE.matcher(m.group(1)).matches()) {
        invalid.add(m.group(1));
      }
    }
    return invalid;
  }

  /** Every payload path {@code template} refers to ({@code payload.a.b}). */
  static List<String> references(String template) {
    List<String> references = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(template);
    while (m.find()) {
      references.add(m.group(1));
    }
    return references;
  }

  /** A filled template, or the payload fields it needs and the payload lacks. */
  record Filled(String text, List<FieldError> missing) {}

  static Filled fill(String template, JsonNode payload) {
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    List<FieldError> missing = new ArrayList<>();
    int last = 0;
    while (m.find()) {
      JsonNode value = resolve(payload, m.group(1));
      if (value == null || value.isNull() || value.isMissingNode()) {
        missing.add(new FieldError(m.group(1), "the trigger's template needs this field and the payload lacks it"));
        continue;
      }
      out.append(template, last, m.start()).append(value.isTextual() ? value.textValue() : value.toString());
      last = m.end();
    }
    return new Filled(out.append(template, last, template.length()).toString(), missing);
  }

  /** The filled input and variables of a run, or every field they need and the payload lacks. */
  record Run(String input, Map<String, String> variables, List<FieldError> missing) {}

  static Run fillRun(String inputTemplate, Map<String, String> variablesTemplate, JsonNode payload) {
    List<FieldError> missing = new ArrayList<>();
    Filled input = fill(inputTemplate, payload);
    missing.addAll(input.missing());
    Map<String, String> variables = new LinkedHashMap<>();
    variablesTemplate.forEach((name, template) -> {
      Filled value = fill(template, payload);
      missing.addAll(value.missing());
      variables.put(name, value.text());
    });
    return new Run(input.text(), variables, missing.stream().distinct().toList());
  }

  private static JsonNode resolve(JsonNode payload, String reference) {
    if (!REFERENCE.matcher(reference).matches()) {
      return null;
    }
    JsonNode node = payload;
    String[] segments = reference.split("\\.");
    for (int i = 1; i < segments.length && node != null; i++) {
      String segment = segments[i];
      if (node.isArray() && segment.chars().allMatch(Character::isDigit) && segment.length() < 10) {
        node = node.get(Integer.parseInt(segment));
      } else {
        node = node.isObject() ? node.get(segment) : null;
      }
    }
    return node;
  }
}
