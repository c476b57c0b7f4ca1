package io.aryabhatta.openai;

import io.aryabhatta.runs.RunStatus;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.OpenAiErrors;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.workspaces.Caller;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The OpenAI-compatible API: agents as models, chat completions as agent runs. */
public final class OpenAiRoutes {
  private static final Logger log = LoggerFactory.getLogger(OpenAiRoutes.class);

  private final ChatCompletions completions;
  private final CompletionStream stream;
  private final JsonBody body;
  private final ObjectMapper mapper;
  /** A streamed answer cannot be replayed, so only non-streaming completions honour Idempotency-Key. */
  private final Handler nonStreaming;

  public OpenAiRoutes(ChatCompletions completions, RunStore store, EventNotifier notifier, JsonBody body,
      Idempotency idempotency, ObjectMapper mapper) {
    this.completions = completions;
    this.stream = new CompletionStream(store, notifier, mapper);
    this.body = body;
    this.mapper = mapper;
    this.nonStreaming = idempotency.wrap(this::complete);
  }

  public void register(RoutesConfig routes) {
    routes.get("/v1/models", ctx -> ctx.json(new OpenAiObjects.ModelList(
        completions.models(Auth.caller(ctx).workspaceId()))));
    routes.get("/v1/models/{model}", ctx -> ctx.json(
        completions.model(Auth.caller(ctx).workspaceId(), ctx.pathParam("model"))));
    routes.post("/v1/chat/completions", this::chatCompletion);
  }

  private void chatCompletion(Context ctx) throws Exception {
    CompletionRequest request = CompletionRequest.parse(body.tree(ctx));
    if (!request.stream()) {
      nonStreaming.handle(ctx);
      return;
    }
    Caller caller = Auth.caller(ctx);
    Run run = completions.start(caller, request);
    try {
      stream.write(ctx, caller.workspaceId(), run, request.model(), request.includeUsage(), completions.maxWait());
    } catch (IOException e) {
      log.info("Client left the stream of chat completion {}; the run goes on", ChatCompletions.completionId(run));
    }
  }

  private void complete(Context ctx) throws InterruptedException {
    CompletionRequest request = CompletionRequest.parse(body.tree(ctx));
    Caller caller = Auth.caller(ctx);
    Run run = completions.settle(caller, completions.start(caller, request));
    if (run.status() != RunStatus.COMPLETED) {
      OpenAiErrors.Error error = RunOutcomes.errorOf(run, completions.maxWait().toSeconds());
      ctx.header(OpenAiErrors.NO_RETRY_HEADER, "false");
      ctx.status(error.status()).contentType("application/json").result(Json.write(mapper, error.body()));
      return;
    }
    ctx.json(new OpenAiObjects.ChatCompletion(ChatCompletions.completionId(run), run.createdAt().getEpochSecond(),
        request.model(), run.output() == null ? "" : run.output(), run.usage()));
  }
}
