package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.aryabhatta.secrets.SecretResolver;
import io.aryabhatta.tools.HttpToolRequests.InvalidSpec;
import io.aryabhatta.tools.HttpToolRunner.Failed;
import io.aryabhatta.tools.HttpToolRunner.Fetched;
import io.aryabhatta.tools.Templates.MissingValue;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code builtin} (shipped or {@linkplain InProcessTool in-process}), {@code http} and {@code mcp}
 * tools. Arguments are expected to have been validated against the tool's schema
 * already ({@link ArgumentValidator}).
 *
 * <p>Every tool-level failure — bad arguments, a blocked address, a timeout, a non-2xx answer, a
 * missing secret — is returned as an error outcome, with a message the model can act on; no secret
 * value appears in any outcome. A failure after which the target may have acted on the call (the
 * request was sent but no answer came, a 502 or 504 from a gateway) is {@link ToolOutcome#unknown}.
 */
public final class ToolExecutor implements ToolInvoker {
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
  static final String USER_AGENT = "Aryabhatta-Tools/1";
  private static final Duration DEFAULT_HTTP_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration MAX_HTTP_TIMEOUT = Duration.ofMinutes(5);
  private static final int ERROR_SNIPPET_CHARS = 500;
  private static final Logger log = LoggerFactory.getLogger(ToolExecutor.class);

  private final SecretResolver secrets;
  private final HttpToolRunner runner;
  private final Calculator calculator = new Calculator();
  private final CurrentTime currentTime;
  private final HttpGetTool httpGet;
  private final McpToolCaller mcp;
  private final BuiltinTools builtins;

  /**
   * An executor of the shipped built-ins and http tools, capping responses at
   * {@value #DEFAULT_MAX_RESPONSE_BYTES} bytes, without MCP or in-process tools.
   */
  public ToolExecutor(OkHttpClient http, ObjectMapper mapper, SecretResolver secrets, AddressGuard guard, Clock clock) {
    this(http, mapper, secrets, guard, clock, DEFAULT_MAX_RESPONSE_BYTES, McpToolCaller.NONE, new BuiltinTools(mapper));
  }

  /**
   * @param http base client; its redirect, DNS, proxy and retry settings are replaced by safe ones
   * @param maxResponseBytes responses longer than this are truncated, with a marker
   * @param mcp runs {@code mcp} tools
   * @param builtins where the functions of in-process built-ins are found (the same registry the
   *     {@link ToolService} resolves tools from)
   */
  public ToolExecutor(OkHttpClient http, ObjectMapper mapper, SecretResolver secrets, AddressGuard guard, Clock clock,
      long maxResponseBytes, McpToolCaller mcp, BuiltinTools builtins) {
    this.mcp = mcp;
    this.builtins = builtins;
    this.secrets = secrets;
    this.runner = new HttpToolRunner(http, guard, maxResponseBytes);
    this.currentTime = new CurrentTime(clock, mapper);
    this.httpGet = new HttpGetTool(runner);
  }

  /**
   * Executes {@code tool} once with {@code arguments}.
   *
   * <p>If the calling thread is interrupted, an HTTP call in flight is cancelled at once (an
   * in-process tool's thread is interrupted) and an error outcome is returned with the thread's
   * interrupt flag set again, so the caller can tell a cancellation from a tool error.
   *
   * @param arguments a JSON object (null counts as {@code {}})
   * @throws IllegalArgumentException for {@code client} tools, which the agent loop handles itself
   */
  @Override
  public ToolOutcome execute(ToolDefinition tool, JsonNode arguments, ToolContext context) {
    if ("client".equals(tool.kind())) {
      throw new IllegalArgumentException("ToolExecutor does not run " + tool.kind() + " tools (" + tool.name() + ")");
    }
    long started = System.nanoTime();
    ToolOutcome outcome;
    if (arguments != null && !arguments.isNull() && !arguments.isObject()) {
      outcome = ToolOutcome.error("arguments must be a JSON object", null, 0);
    } else {
      JsonNode args = arguments == null || arguments.isNull() ? JsonNodeFactory.instance.objectNode() : arguments;
      outcome = run(tool, args, context);
    }
    long durationMs = Math.round((System.nanoTime() - started) / 1e6);
    return outcome.withDuration(durationMs);
  }

  private ToolOutcome run(ToolDefinition tool, JsonNode arguments, ToolContext context) {
    try {
      return switch (tool.kind()) {
        case "builtin" -> builtin(tool.name(), arguments, context);
        case "http" -> http(tool, arguments, context);
        case "mcp" -> mcp.call(tool, arguments, context);
        default -> ToolOutcome.error("tool '" + tool.name() + "' has unknown kind '" + tool.kind() + "'", null, 0);
      };
    } catch (RuntimeException e) {
      // A bug of ours must not take the run down; the model sees a tool error, the log the cause.
      log.warn("Tool {} ({}) failed unexpectedly with {}", tool.name(), tool.kind(), e.getClass().getName());
      return ToolOutcome.error("the tool failed unexpectedly (" + e.getClass().getSimpleName() + ")", null, 0);
    }
  }

  private ToolOutcome builtin(String name, JsonNode arguments, ToolContext context) {
    // The shipped built-ins need no timeout of their own: calculator and current_time are pure and
    // bounded (the calculator refuses huge work), and http_get runs under its own deadline.
    return switch (name) {
      case "calculator" -> calculator(arguments);
      case "current_time" -> currentTime(arguments);
      case "http_get" -> httpGet(arguments, context);
      default -> builtins.inProcess(name)
          .map(tool -> InProcessRunner.run(tool, arguments, context))
          .orElseGet(() -> ToolOutcome.error("unknown built-in tool '" + name + "' (built-ins: "
              + String.join(", ", builtins.all().stream().map(ToolDefinition::name).toList()) + ")", null, 0));
    };
  }

  private ToolOutcome calculator(JsonNode arguments) {
    JsonNode expression = arguments.get("expression");
    if (expression == null || !expression.isTextual()) {
      return ToolOutcome.error("calculator needs {\"expression\": \"...\"}, e.g. \"(2 + 3) * 4\"", null, 0);
    }
    try {
      return ToolOutcome.success(calculator.evaluate(expression.textValue()), null, 0);
    } catch (Calculator.InvalidExpression e) {
      return ToolOutcome.error("cannot evaluate: " + e.getMessage(), null, 0);
    }
  }

  private ToolOutcome currentTime(JsonNode arguments) {
    JsonNode zone = arguments.get("timezone");
    if (zone != null && !zone.isNull() && !zone.isTextual()) {
      return ToolOutcome.error("timezone must be a string such as \"Asia/Kolkata\"", null, 0);
    }
    try {
      return ToolOutcome.success(currentTime.now(zone == null || zone.isNull() ? null : zone.textValue()), null, 0);
    } catch (CurrentTime.UnknownZone e) {
      return ToolOutcome.error(e.getMessage(), null, 0);
    }
  }

  private ToolOutcome httpGet(JsonNode arguments, ToolContext context) {
    JsonNode url = arguments.get("url");
    if (url == null || !url.isTextual()) {
      return ToolOutcome.error("http_get needs {\"url\": \"https://...\"}", null, 0);
    }
    try {
      return outcome(httpGet.get(url.textValue(), context.idempotencyKey()), UnaryOperator.identity());
    } catch (Failed e) {
      return e.outcome(UnaryOperator.identity());
    } catch (InterruptedException e) {
      return cancelled();
    }
  }

  private ToolOutcome http(ToolDefinition tool, JsonNode arguments, ToolContext context) {
    HttpToolSpec spec = tool.http();
    if (spec == null) {
      return ToolOutcome.error("http tool '" + tool.name() + "' has no http settings", null, 0);
    }
    Templates templates = new Templates(arguments, parameterNames(tool.parameters()), secrets, context.workspaceId());
    try {
      Request request = HttpToolRequests.build(spec, arguments, templates, context.idempotencyKey());
      Fetched fetched = runner.fetch(request, timeout(spec.timeoutMs()), type -> true);
      return outcome(fetched, templates::redact);
    } catch (Failed e) {
      return e.outcome(templates::redact);
    } catch (MissingValue | InvalidSpec e) {
      return ToolOutcome.error(templates.redact(e.getMessage()), null, 0);
    } catch (InterruptedException e) {
      return cancelled();
    }
  }

  private ToolOutcome outcome(Fetched fetched, UnaryOperator<String> redact) {
    if (fetched.successful()) {
      String text = fetched.body();
      if (fetched.truncated()) {
        text += "\n[truncated: response exceeded " + runner.maxResponseBytes() + " bytes]";
      } else if (text.isEmpty()) {
        text = "(empty response body, HTTP " + fetched.status() + ")";
      }
      return ToolOutcome.success(redact.apply(text), fetched.status(), 0);
    }
    String body = fetched.body().strip();
    String snippet = body.length() > ERROR_SNIPPET_CHARS ? body.substring(0, ERROR_SNIPPET_CHARS) + "…" : body;
    String answer = "HTTP " + fetched.status() + " from " + fetched.url().host();
    String detail = snippet.isEmpty() ? " (empty body)" : ": " + snippet;
    if (fetched.redirectedBy() != null) {
      // The first target answered with a redirect: it received the request, and may have acted.
      return ToolOutcome.unknown(redact.apply("outcome unknown: " + fetched.redirectedBy()
          + " received the request and answered with a redirect; following it got " + answer + detail),
          fetched.status(), 0);
    }
    if (gatewayFailure(fetched.status())) {
      return ToolOutcome.unknown(redact.apply("outcome unknown: " + answer
          + ", a gateway: the server behind it may have received the request" + detail), fetched.status(), 0);
    }
    return transientStatus(fetched.status())
        ? ToolOutcome.transientError(redact.apply(answer + detail), fetched.status(), 0)
        : ToolOutcome.error(redact.apply(answer + detail), fetched.status(), 0);
  }

  /** 502 and 504 come from a gateway whose upstream failed or did not answer in time, maybe after acting. */
  private static boolean gatewayFailure(int status) {
    return status == 502 || status == 504;
  }

  private static boolean transientStatus(int status) {
    return status == 408 || status == 429 || status >= 500;
  }

  /** The outcome of a call cut short by interrupting the calling thread, whose flag is set again. */
  static ToolOutcome cancelled() {
    Thread.currentThread().interrupt();
    return ToolOutcome.error("cancelled: the tool call was interrupted before it finished", null, 0);
  }

  private static Duration timeout(int timeoutMs) {
    if (timeoutMs <= 0) {
      return DEFAULT_HTTP_TIMEOUT;
    }
    Duration requested = Duration.ofMillis(timeoutMs);
    return requested.compareTo(MAX_HTTP_TIMEOUT) > 0 ? MAX_HTTP_TIMEOUT : requested;
  }

  private static Set<String> parameterNames(JsonNode schema) {
    Set<String> names = new HashSet<>();
    if (schema != null) {
      schema.path("properties").fieldNames().forEachRemaining(names::add);
    }
    return names;
  }
}
