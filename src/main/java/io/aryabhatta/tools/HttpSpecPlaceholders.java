package io.aryabhatta.tools;

import io.aryabhatta.secrets.SecretReferences;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the placeholders of an {@code http} tool's templates at definition time: {@code {param}}
 * names an argument, {@code {{secret.NAME}}} a secret; no other double-brace form exists.
 */
final class HttpSpecPlaceholders {
  static final Pattern PARAMETER = Pattern.compile("\\{([A-Za-z0-9_.-]+)}");

  private HttpSpecPlaceholders() {}

  /** The argument names referenced in {@code template}. */
  static Set<String> parameters(String template) {
    Set<String> names = new LinkedHashSet<>();
    Matcher m = PARAMETER.matcher(withoutSecrets(template, ""));
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** True when {@code template} has a {@code {{…}}} that is not a secret reference. */
  static boolean hasUnknownDoubleBraces(String template) {
    return withoutSecrets(template, "").contains("{{");
  }

  /** The template with every placeholder replaced by a harmless word, to check it parses as a URL. */
  static String sample(String template) {
    return PARAMETER.matcher(withoutSecrets(template, "secret")).replaceAll("p");
  }

  private static String withoutSecrets(String template, String replacement) {
    return SecretReferences.REFERENCE.matcher(template).replaceAll(replacement);
  }
}
