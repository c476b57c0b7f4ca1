package io.aryabhatta.secrets;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds {@code {{secret.NAME}}} references in templates. */
public final class SecretReferences {
  /** A reference; group 1 is the secret's name. */
  public static final Pattern REFERENCE = Pattern.compile("\\{\\{secret\\.([A-Za-z0-9_]+)}}");

  private SecretReferences() {}

  public static String of(String name) {
    return "{{secret." + name + "}}";
  }

  /** The names referenced in {@code text}, in order of appearance. */
  public static Set<String> in(String text) {
    Set<String> names = new LinkedHashSet<>();
    if (text != null) {
      Matcher m = REFERENCE.matcher(text);
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  /** The names referenced in any string value of a JSON tree. */
  public static Set<String> in(JsonNode node) {
    Set<String> names = new LinkedHashSet<>();
    collect(node, names);
    return names;
  }

  public static Set<String> in(Collection<String> texts) {
    Set<String> names = new LinkedHashSet<>();
    texts.forEach(t -> names.addAll(in(t)));
    return names;
  }

  private static void collect(JsonNode node, Set<String> names) {
    if (node == null) {
      return;
    }
    if (node.isTextual()) {
      names.addAll(in(node.asText()));
    } else if (node.isContainerNode()) {
      node.forEach(child -> collect(child, names));
    }
  }
}
