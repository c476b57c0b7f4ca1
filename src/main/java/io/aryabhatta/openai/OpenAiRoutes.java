package io.aryabhatta.openai;

import io.aryabhatta.errors.DomainException;
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
  private final Responses responses;
  private final ResponseStream responseStream;
  private final JsonBody body;
  private final ObjectMapper mapper;
  /** A streamed answer cannot be replayed, so only non-streaming completions honour Idempotency-Key. */
  private final Handler nonStreaming;
  private final Handler nonStreamingResponse;

  public OpenAiRoutes(ChatCompletions completions, Responses responses, RunStore store, EventNotifier notifier,
      JsonBody body, Idempotency idempotency, ObjectMapper mapper) {
    this.completions = completions;
    this.stream = new CompletionStream(store, notifier, mapper);
    this.responses = responses;
    this.responseStream = new ResponseStream(responses, responses.view(), store, notifier, mapper);
    this.nonStreamingResponse = idempotency.wrap(this::respond);
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
    routes.post("/v1/responses", this::createResponse);
    routes.get("/v1/responses/{id}", this::getResponse);
  }

  private void createResponse(Context ctx) throws Exception {
    // A response runs an agent whose tools may have side effects: an SDK retrying a refusal or a
    // failure could start a second run of the same input.
    ctx.header(OpenAiErrors.NO_RETRY_HEADER, "false");
    ResponseRequest request = ResponseRequest.parse(body.tree(ctx));
    if (!request.stream()) {
      nonStreamingResponse.handle(ctx);
      return;
    }
    Responses.Created created = responses.create(Auth.caller(ctx), request);
    try {
      responseStream.write(ctx, created, responses.maxWait());
    } catch (IOException e) {
      log.info("Client left the stream of response {}; the run goes on", created.response().id());
    }
  }

  /**
   * The response once its run has ended or waits for the client; with {@code background: true},
   * or when the run is still going after the wait, the response as it stands ({@code queued} or
   * {@code in_progress}), to be read again with {@code GET /v1/responses/{id}}. A run that failed,
   * was cancelled or waits for a person is an OpenAI error, as for chat completions.
   */
  private void respond(Context ctx) throws InterruptedException {
    ResponseRequest request = ResponseRequest.parse(body.tree(ctx));
    Caller caller = Auth.caller(ctx);
    Responses.Stored response = responses.create(caller, request).response();
    Run run = request.background() ? null : responses.settle(caller, response);
    if (run != null && run.settled() && run.status() != RunStatus.COMPLETED && !ResponseView.waitsForClient(run)) {
      OpenAiErrors.Error error = RunOutcomes.errorOf(run, responses.maxWait().toSeconds());
      ctx.header(OpenAiErrors.NO_RETRY_HEADER, "false");
      ctx.status(error.status()).contentType("application/json").result(Json.write(mapper, error.body()));
      return;
    }
    ctx.json(responses.render(response));
  }

  private void getResponse(Context ctx) {
    Responses.Stored response = responses.find(Auth.caller(ctx), ctx.pathParam("id"))
        .orElseThrow(() -> DomainException.NotFound.of("response", ctx.pathParam("id")));
    ctx.json(responses.render(response));
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
