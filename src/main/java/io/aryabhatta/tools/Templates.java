package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.secrets.SecretResolver;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fills the templates of one {@code http} tool call: {@code {param}} from the
 * call's arguments and {@code {{secret.NAME}}} from the workspace's secrets.
 *
 * <p>Each template is scanned once: text that came from an argument is never scanned again, so a
 * model cannot pull a secret into a request by passing {@code "{{secret.X}}"} as an argument.
 * A {@code {name}} that is neither a parameter of the tool's schema nor a given argument is left as
 * literal text. Remembers which arguments were used and which secret values were injected.
 */
final class Templates {
  private static final Pattern PLACEHOLDER =
      Pattern.compile("\\{\\{\\s*secret\\.([A-Za-z0-9_.-]+)\\s*}}|\\{([A-Za-z_][A-Za-z0-9_-]*)}");

  private final JsonNode arguments;
  private final Set<String> parameterNames;
  private final SecretResolver secrets;
  private final String workspaceId;
  private final Set<String> usedArguments = new LinkedHashSet<>();
  private final Set<String> injectedSecrets = new LinkedHashSet<>();

  /**
   * @param arguments the call's arguments (an object)
   * @param parameterNames property names declared by the tool's JSON Schema
   */
  Templates(JsonNode arguments, Set<String> parameterNames, SecretResolver secrets, String workspaceId) {
    this.arguments = arguments;
    Set<String> names = new LinkedHashSet<>(parameterNames);
    arguments.fieldNames().forEachRemaining(names::add);
    this.parameterNames = Set.copyOf(names);
    this.secrets = secrets;
    this.workspaceId = workspaceId;
  }

  /** Fills a URL template: arguments are percent-encoded as one path segment, secrets inserted as is. */
  String url(String template) throws MissingValue {
    return fill(template, true);
  }

  /** Fills a header value, query value or body string: arguments as plain text. */
  String text(String template) throws MissingValue {
    return fill(template, false);
  }

  /**
   * The parameter a template consists of entirely ({@code "{order_id}"}), if it is one; such a
   * template takes the argument's JSON value, or is dropped when the argument is absent.
   */
  Optional<String> wholeParameter(String template) {
    Matcher m = PLACEHOLDER.matcher(template);
    if (m.matches() && m.group(2) != null && parameterNames.contains(m.group(2))) {
      return Optional.of(m.group(2));
    }
    return Optional.empty();
  }

  /** The argument named {@code name} (marked as used), if given and not null. */
  Optional<JsonNode> argument(String name) {
    usedArguments.add(name);
    JsonNode value = arguments.get(name);
    return value == null || value.isNull() ? Optional.empty() : Optional.of(value);
  }

  /**
   * Fills a JSON body template: a string that is exactly {@code "{param}"} becomes the argument's
   * JSON value (type kept; the field is dropped when the argument is absent), other strings are
   * filled as text, recursively through objects and arrays.
   */
  JsonNode json(JsonNode template) throws MissingValue {
    if (template.isTextual()) {
      Optional<String> whole = wholeParameter(template.textValue());
      if (whole.isPresent()) {
        return argument(whole.get()).<JsonNode>map(JsonNode::deepCopy).orElse(null);
      }
      return JsonNodeFactory.instance.textNode(text(template.textValue()));
    }
    if (template.isObject()) {
      ObjectNode filled = JsonNodeFactory.instance.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = template.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        JsonNode value = json(field.getValue());
        if (value != null) {
          filled.set(field.getKey(), value);
        }
      }
      return filled;
    }
    if (template.isArray()) {
      ArrayNode filled = JsonNodeFactory.instance.arrayNode();
      for (JsonNode element : template) {
        JsonNode value = json(element);
        filled.add(value == null ? JsonNodeFactory.instance.nullNode() : value);
      }
      return filled;
    }
    return template.deepCopy();
  }

  /** Names of the arguments some template referred to. */
  Set<String> usedArguments() {
    return Set.copyOf(usedArguments);
  }

  /** Secret values put into the request, to be redacted from anything shown afterwards. */
  Set<String> injectedSecrets() {
    return Set.copyOf(injectedSecrets);
  }

  /** Replaces every injected secret value in {@code text} with {@code ***} (see {@link SecretRedaction}). */
  String redact(String text) {
    return SecretRedaction.of(injectedSecrets).apply(text);
  }

  /** An argument as text: strings as they are, other values as JSON. */
  static String asText(JsonNode value) {
    return value.isTextual() ? value.textValue() : value.toString();
  }

  private String fill(String template, boolean urlEncode) throws MissingValue {
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    int last = 0;
    while (m.find()) {
      String replacement;
      if (m.group(1) != null) {
        replacement = secret(m.group(1));
      } else if (parameterNames.contains(m.group(2))) {
        Optional<JsonNode> value = argument(m.group(2));
        if (value.isEmpty() && urlEncode) {
          throw new MissingValue("argument '" + m.group(2) + "' is required by the URL of this tool");
        }
        String text = value.map(Templates::asText).orElse("");
        replacement = urlEncode ? encodePathSegment(text) : text;
      } else {
        continue;
      }
      out.append(template, last, m.start()).append(replacement);
      last = m.end();
    }
    return out.append(template, last, template.length()).toString();
  }

  private String secret(String name) throws MissingValue {
    String value = secrets.resolve(workspaceId, name).orElseThrow(() -> new MissingValue(
        "secret '" + name + "' is not set in this workspace (create it with POST /api/secrets)"));
    if (!value.isEmpty()) {
      injectedSecrets.add(value);
    }
    return value;
  }

  /** RFC 3986 percent-encoding of everything but unreserved characters, so '/' and '?' stay inside. */
  static String encodePathSegment(String text) {
    StringBuilder out = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~';
      if (unreserved) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** A template refers to an argument or secret that is not there. */
  static final class MissingValue extends Exception {
    MissingValue(String message) {
      super(message);
    }
  }
}
