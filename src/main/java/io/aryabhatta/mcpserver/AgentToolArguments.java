package io.aryabhatta.mcpserver;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arguments of a call to an agent's tool: the user's {@code input}, and the {@code variables}
 * its system prompt is filled with (strings, numbers or booleans, as the run API takes them).
 */
record AgentToolArguments(String input, Map<String, String> variables) {

  /** Arguments a caller got wrong; the message says which and how, for the calling model to fix. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  static AgentToolArguments of(Map<String, Object> arguments) throws Refused {
    Map<String, Object> given = arguments == null ? Map.of() : arguments;
    return new AgentToolArguments(input(given.get("input")), variables(given.get("variables")));
  }

  private static String input(Object input) throws Refused {
    if (!(input instanceof String text) || text.isBlank()) {
      throw new Refused("'input' is required and must be a non-empty string: the message for the agent");
    }
    return text;
  }

  private static Map<String, String> variables(Object variables) throws Refused {
    if (variables == null) {
      return Map.of();
    }
    if (!(variables instanceof Map<?, ?> given)) {
      throw new Refused("'variables' must be an object of prompt variables, such as {\"customer\": \"Ada\"}");
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : given.entrySet()) {
      Object value = e.getValue();
      if (value == null || value instanceof Map || value instanceof List) {
        throw new Refused("'variables." + e.getKey() + "' must be a string, number or boolean");
      }
      values.put(String.valueOf(e.getKey()), value.toString());
    }
    return values;
  }
}
