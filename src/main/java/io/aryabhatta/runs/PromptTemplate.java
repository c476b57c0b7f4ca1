package io.aryabhatta.runs;

import io.aryabhatta.agents.PromptVariables;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Fills the {@code {{var}}} placeholders of a system prompt (as {@link PromptVariables} defines
 * them) from a conversation's variables.
 */
public final class PromptTemplate {
  private PromptTemplate() {}

  /** The placeholders a prompt needs that {@code variables} does not provide. */
  public static Set<String> missing(String prompt, Map<String, String> variables) {
    Set<String> missing = new LinkedHashSet<>(PromptVariables.names(prompt));
    missing.removeAll(variables.keySet());
    return missing;
  }

  /**
   * The placeholders a prompt needs whose value in {@code variables} is empty or blank: filled in,
   * they would leave a hole in the prompt ("The user is .").
   */
  public static Set<String> empty(String prompt, Map<String, String> variables) {
    Set<String> empty = new LinkedHashSet<>();
    for (String name : PromptVariables.names(prompt)) {
      String value = variables.get(name);
      if (value != null && value.isBlank()) {
        empty.add(name);
      }
    }
    return empty;
  }

  /**
   * Refuses variables given empty where {@code prompt} uses them, each as a field error on
   * {@code variables.<name>}: a run would start with a hole in its prompt.
   */
  public static void refuseEmpty(String prompt, Map<String, String> variables) {
    Set<String> empty = empty(prompt, variables);
    if (!empty.isEmpty()) {
      throw new DomainException.ValidationFailed(empty.stream()
          .map(name -> new FieldError("variables." + name, "must not be empty: the agent's system prompt uses it"))
          .toList());
    }
  }

  /** Replaces every placeholder; call {@link #missing} first. */
  public static String fill(String prompt, Map<String, String> variables) {
    if (prompt == null) {
      return "";
    }
    Matcher m = PromptVariables.PLACEHOLDER.matcher(prompt);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = variables.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value == null ? m.group() : value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
