package io.aryabhatta.embed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.aryabhatta.tools.InProcessTool;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolOutcome;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tool implemented as a Java function, registered with {@link Aryabhatta.Builder#tool}. Agents
 * list it by name like any other tool; it is shown by the tools API as a read-only built-in
 * ({@code kind: builtin}, id {@code builtin:<name>}) of every workspace.
 *
 * <p>The agent loop treats it like the other tools: the model's arguments are validated against
 * {@code parameters} (invalid ones go back to the model as a tool error), the call waits for
 * approval when the agent asks for it, it is journaled before and after it runs, and it receives
 * the call's idempotency key. A {@link ToolError} or any other exception becomes a tool error the
 * model reads; the run goes on. Each call runs under the tool's {@link #timeout}.
 *
 * <p>Instances are immutable: {@link #idempotent}, {@link #requiresApproval} and {@link #timeout}
 * return copies.
 */
public final class JavaTool {
  private static final Logger log = LoggerFactory.getLogger(JavaTool.class);

  private final String name;
  private final String description;
  private final JsonNode parameters;
  private final boolean idempotent;
  private final boolean requiresApproval;
  private final Duration timeout;
  private final Invoker invoker;

  /** How a call reaches the application's function; the mapper is the engine's. */
  @FunctionalInterface
  private interface Invoker {
    String invoke(JsonNode arguments, ToolCallContext call, ObjectMapper mapper) throws Exception;
  }

  private JavaTool(String name, String description, JsonNode parameters, boolean idempotent,
      boolean requiresApproval, Duration timeout, Invoker invoker) {
    this.name = name;
    this.description = description;
    this.parameters = parameters;
    this.idempotent = idempotent;
    this.requiresApproval = requiresApproval;
    this.timeout = timeout;
    this.invoker = invoker;
  }

  /**
   * A tool whose function takes the JSON arguments and returns the result text.
   *
   * @param name matches {@code ^[a-zA-Z0-9_-]{1,64}$}, unique among the built-ins
   * @param description what the model reads to decide when to call the tool
   * @param parametersSchema JSON Schema (draft 2020-12) of the arguments object, as JSON text
   * @throws IllegalArgumentException when {@code parametersSchema} is not JSON
   */
  public static JavaTool of(String name, String description, String parametersSchema,
      Function<JsonNode, String> function) {
    Objects.requireNonNull(function, "function");
    return of(name, description, parametersSchema, (arguments, call) -> function.apply(arguments));
  }

  /**
   * A tool whose function also receives the call's context, e.g. its idempotency key.
   *
   * @see #of(String, String, String, Function)
   */
  public static JavaTool of(String name, String description, String parametersSchema, ToolFunction function) {
    Objects.requireNonNull(function, "function");
    return new JavaTool(name, description, schema(parametersSchema), false, false, InProcessTool.DEFAULT_TIMEOUT,
        (arguments, call, mapper) -> function.apply(arguments, call));
  }

  /**
   * A tool whose function takes its arguments as {@code argumentsType} (converted with snake_case
   * names, unknown properties refused) and returns any object, sent to the model as JSON unless
   * it is a String.
   *
   * @see #of(String, String, String, Function)
   */
  public static <A> JavaTool typed(String name, String description, String parametersSchema, Class<A> argumentsType,
      TypedToolFunction<A> function) {
    Objects.requireNonNull(argumentsType, "argumentsType");
    Objects.requireNonNull(function, "function");
    return new JavaTool(name, description, schema(parametersSchema), false, false, InProcessTool.DEFAULT_TIMEOUT,
        (arguments, call, mapper) -> {
          A typed;
          try {
            typed = mapper.treeToValue(arguments, argumentsType);
          } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ToolError("the arguments do not fit the tool: " + originalMessage(e));
          }
          Object result = function.apply(typed, call);
          return result == null || result instanceof String ? (String) result : Json.write(mapper, result);
        });
  }

  /**
   * Whether a call may simply be executed again when the process died while it ran (default
   * false: such a call waits for a person to settle its outcome, as for HTTP tools).
   */
  public JavaTool idempotent(boolean idempotent) {
    return new JavaTool(name, description, parameters, idempotent, requiresApproval, timeout, invoker);
  }

  /** Whether calls wait for approval when the agent's {@code tool_approval} is {@code per_tool}. */
  public JavaTool requiresApproval(boolean requiresApproval) {
    return new JavaTool(name, description, parameters, idempotent, requiresApproval, timeout, invoker);
  }

  /**
   * The longest one call may take (default 60 s). The function runs on a virtual thread of its
   * own; when it has not returned in time, its thread is interrupted and the call fails with an
   * unknown outcome, since the function may have had its effect (or may still have it). The agent
   * loop treats that like a call cut short by a crash: an {@link #idempotent} tool is called again
   * with the same idempotency key, any other waits for a person to settle its outcome. A function
   * that should stop when given up must react to interruption.
   *
   * @throws IllegalArgumentException when {@code timeout} is not positive
   */
  public JavaTool timeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (!timeout.isPositive()) {
      throw new IllegalArgumentException("the timeout of tool '" + name + "' must be positive, not " + timeout);
    }
    return new JavaTool(name, description, parameters, idempotent, requiresApproval, timeout, invoker);
  }

  public String name() {
    return name;
  }

  public String description() {
    return description;
  }

  public JsonNode parameters() {
    return parameters;
  }

  public boolean idempotent() {
    return idempotent;
  }

  public boolean requiresApproval() {
    return requiresApproval;
  }

  public Duration timeout() {
    return timeout;
  }

  /** The built-in the engine registers for this tool. */
  InProcessTool toInProcessTool(ObjectMapper mapper) {
    return new InProcessTool(name, description, parameters, idempotent, requiresApproval, timeout,
        (arguments, context) -> call(arguments, context, mapper));
  }

  private ToolOutcome call(JsonNode arguments, ToolContext context, ObjectMapper mapper) {
    try {
      String result = invoker.invoke(arguments, new ToolCallContext(context.workspaceId(), context.idempotencyKey()),
          mapper);
      return ToolOutcome.success(result == null ? "" : result, null, 0);
    } catch (ToolError e) {
      return ToolOutcome.error(e.getMessage() == null ? "the tool failed" : e.getMessage(), null, 0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ToolOutcome.error("cancelled: the tool call was interrupted before it finished", null, 0);
    } catch (Exception e) {
      // The message may hold internals, so the model only learns the kind of failure; the
      // application finds the whole exception in its own log.
      log.warn("Java tool {} failed", name, e);
      return ToolOutcome.error("the tool failed (" + e.getClass().getSimpleName() + ")", null, 0);
    }
  }

  private static JsonNode schema(String parametersSchema) {
    Objects.requireNonNull(parametersSchema, "parametersSchema");
    try {
      return Json.mapper().readTree(parametersSchema);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the parameters schema is not JSON: " + originalMessage(e));
    }
  }

  private static String originalMessage(Exception e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
  }
}
