package io.aryabhatta.tools;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import io.aryabhatta.http.Auth;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;
import java.util.UUID;

/**
 * {@code POST /api/tools/{id}/test}: the tool builder's test button. Executes a tool once, outside
 * any run, with the same validation, guard and templating as in a run.
 */
public final class ToolTestRoutes {
  private final ToolService tools;
  private final ToolExecutor executor;
  private final ArgumentValidator validator;
  private final JsonBody body;

  public ToolTestRoutes(ToolService tools, ToolExecutor executor, ArgumentValidator validator, JsonBody body) {
    this.tools = tools;
    this.executor = executor;
    this.validator = validator;
    this.body = body;
  }

  record TestRequest(JsonNode arguments) {}

  public record TestResult(String status, String result, Integer statusCode, long durationMs) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/tools/{id}/test", this::test);
  }

  private void test(Context ctx) {
    Caller caller = Auth.caller(ctx);
    ToolDefinition tool = tools.byId(caller.workspaceId(), ctx.pathParam("id"));
    TestRequest request = body.readOrDefault(ctx, TestRequest.class, new TestRequest(null));
    JsonNode arguments = request.arguments() == null ? JsonNodeFactory.instance.objectNode() : request.arguments();
    if (!arguments.isObject()) {
      throw new DomainException.ValidationFailed("arguments", "must be an object");
    }
    if (tool.kind().equals("client")) {
      throw new DomainException.Unprocessable("tool-not-executable",
          "'" + tool.kind() + "' tools are not executed by the server; nothing to test");
    }
    List<String> errors = validator.validate(tool.parameters(), arguments);
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors.stream()
          .map(e -> new FieldError("arguments", e)).toList());
    }
    ToolOutcome outcome = executor.execute(tool, arguments,
        new ToolContext(caller.workspaceId(), "test-" + UUID.randomUUID()));
    ctx.json(new TestResult(outcome.ok() ? "ok" : "error", outcome.result(), outcome.statusCode(),
        outcome.durationMs()));
  }
}
