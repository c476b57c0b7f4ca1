package io.aryabhatta.agents;

import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code {{var}}} placeholders of a system prompt, filled from a conversation's variables.
 * {@code {{secret.NAME}}} is not a variable (the dot keeps it out of {@link #PLACEHOLDER}).
 */
public final class PromptVariables {
  /** A placeholder; group 1 is the variable's name. */
  public static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*}}");

  private PromptVariables() {}

  /** The distinct variable names of {@code prompt}, sorted. */
  public static List<String> names(String prompt) {
    TreeSet<String> names = new TreeSet<>();
    if (prompt != null) {
      Matcher m = PLACEHOLDER.matcher(prompt);
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    return List.copyOf(names);
  }
}
