package io.aryabhatta.runtime;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Fills {@code {{var}}} placeholders of a system prompt from a conversation's variables. */
public final class PromptTemplate {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_.-]*)\\s*}}");

  private PromptTemplate() {}

  /** The placeholders a prompt needs that {@code variables} does not provide, in order. */
  public static Set<String> missing(String prompt, Map<String, String> variables) {
    Set<String> missing = new LinkedHashSet<>();
    Matcher m = PLACEHOLDER.matcher(prompt == null ? "" : prompt);
    while (m.find()) {
      if (!m.group(1).startsWith("secret.") && !variables.containsKey(m.group(1))) {
        missing.add(m.group(1));
      }
    }
    return missing;
  }

  /** Replaces every placeholder; call {@link #missing} first. */
  public static String fill(String prompt, Map<String, String> variables) {
    if (prompt == null) {
      return "";
    }
    Matcher m = PLACEHOLDER.matcher(prompt);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = variables.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value == null ? m.group() : value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
