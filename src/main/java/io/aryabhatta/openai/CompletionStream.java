package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.http.OpenAiErrors;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunStore;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;

/**
 * Writes a run as OpenAI {@code chat.completion.chunk} Server-Sent Events: a role chunk, the run's
 * {@code message.delta} events as content deltas as they commit, a finish chunk, the usage chunk
 * when asked for, then {@code data: [DONE]}. A run that does not complete ends the stream with an
 * error chunk ({@code data: {"error": …}}), which OpenAI SDKs raise as an APIError.
 */
final class CompletionStream {
  /** Between the texts of two model calls of one run (before and after a tool call). */
  private static final String TURN_SEPARATOR = "\n\n";

  private final RunStore store;
  private final RunEventFollower follower;
  private final ObjectMapper mapper;

  CompletionStream(RunStore store, EventNotifier notifier, ObjectMapper mapper) {
    this.store = store;
    this.follower = new RunEventFollower(store, notifier);
    this.mapper = mapper;
  }

  /** What the stream has sent so far, to place separators and to catch a final answer sent without deltas. */
  private static final class Progress {
    boolean anyText;
    boolean textInThisCall;
    boolean separatorDue;
  }

  /**
   * Streams {@code run} until it settles or {@code maxWait} passes. A client that goes away only
   * stops the stream: the run goes on.
   */
  void write(Context ctx, String workspaceId, Run run, String model, boolean includeUsage, Duration maxWait)
      throws IOException, InterruptedException {
    OutputStream out = RunEventFollower.open(ctx);
    Chunks chunks = new Chunks(ChatCompletions.completionId(run), run.createdAt().getEpochSecond(), model);
    send(out, chunks.delta(new OpenAiObjects.Delta("assistant", "")));
    Progress progress = new Progress();
    if (follower.follow(run.id(), 0, maxWait, out,
        event -> handle(out, chunks, event, progress, includeUsage, workspaceId, run.id()))) {
      return;
    }
    Run current = store.run(workspaceId, run.id()).orElse(run);
    sendError(out, RunOutcomes.errorOf(current, maxWait.toSeconds()));
  }

  /** Sends what {@code event} means to the client; true when the stream is over. */
  private boolean handle(OutputStream out, Chunks chunks, RunEvent event, Progress progress, boolean includeUsage,
      String workspaceId, String runId) throws IOException {
    switch (event.type()) {
      case "llm_call.started" -> {
        progress.separatorDue = progress.anyText;
        progress.textInThisCall = false;
      }
      case "message.delta" -> sendText(out, chunks, event.data().path("text").asText(""), progress);
      case "run.completed" -> {
        if (!progress.textInThisCall) {
          sendText(out, chunks, event.data().path("output").asText(""), progress);
        }
        send(out, chunks.finish());
        if (includeUsage) {
          send(out, chunks.usage(event.data().get("usage")));
        }
        RunEventFollower.write(out, "data: [DONE]\n\n");
        return true;
      }
      case "run.failed", "run.cancelled", "run.requires_action" -> {
        Run settled = store.run(workspaceId, runId).orElseThrow();
        sendError(out, RunOutcomes.errorOf(settled, 0));
        return true;
      }
      default -> {
        // Tool calls run on the server; OpenAI's chunk format has nothing to say about them.
      }
    }
    return false;
  }

  private void sendText(OutputStream out, Chunks chunks, String text, Progress progress) throws IOException {
    if (text.isEmpty()) {
      return;
    }
    String content = progress.separatorDue ? TURN_SEPARATOR + text : text;
    progress.separatorDue = false;
    progress.anyText = true;
    progress.textInThisCall = true;
    send(out, chunks.delta(new OpenAiObjects.Delta(null, content)));
  }

  private void sendError(OutputStream out, OpenAiErrors.Error error) throws IOException {
    RunEventFollower.write(out, "data: " + Json.write(mapper, error.body()) + "\n\n");
  }

  private void send(OutputStream out, OpenAiObjects.Chunk chunk) throws IOException {
    RunEventFollower.write(out, "data: " + Json.write(mapper, chunk) + "\n\n");
  }

  /** The chunks of one completion: same id, creation time and model on each. */
  private record Chunks(String id, long created, String model) {
    OpenAiObjects.Chunk delta(OpenAiObjects.Delta delta) {
      return new OpenAiObjects.Chunk(id, created, model, List.of(new OpenAiObjects.ChunkChoice(0, delta, null, null)),
          null);
    }

    OpenAiObjects.Chunk finish() {
      return new OpenAiObjects.Chunk(id, created, model,
          List.of(new OpenAiObjects.ChunkChoice(0, new OpenAiObjects.Delta(null, null), null, "stop")), null);
    }

    OpenAiObjects.Chunk usage(JsonNode usage) {
      return new OpenAiObjects.Chunk(id, created, model, List.of(), usage);
    }
  }
}
