package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.EventNotifier;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunStore;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a response as the Responses API's Server-Sent Events while its run goes on:
 * {@code response.created} and {@code response.in_progress}; for each model call's text
 * {@code response.output_item.added}, {@code response.content_part.added}, its
 * {@code response.output_text.delta} events as the run's {@code message.delta} events commit,
 * {@code response.output_text.done}, {@code response.content_part.done} and
 * {@code response.output_item.done}; each tool call item added and done once it has its outcome;
 * then {@code response.completed} (also when the run waits for the client's function outputs or
 * approvals), {@code response.failed} or {@code response.incomplete}, with the whole response.
 */
final class ResponseStream {

  private final Responses responses;
  private final ResponseView view;
  private final RunEventFollower follower;
  private final ObjectMapper mapper;

  ResponseStream(Responses responses, ResponseView view, RunStore store, EventNotifier notifier,
      ObjectMapper mapper) {
    this.responses = responses;
    this.view = view;
    this.follower = new RunEventFollower(store, notifier);
    this.mapper = mapper;
  }

  /** One stream's state: what has been sent. */
  private final class Sent {
    final OutputStream out;
    int sequence;
    int nextOutputIndex;
    final Set<String> items = new HashSet<>();
    int modelStep = -1;
    String openMessage;
    int openIndex;
    final StringBuilder openText = new StringBuilder();

    Sent(OutputStream out) {
      this.out = out;
    }

    void event(String type, ObjectNode data) throws IOException {
      ObjectNode event = mapper.createObjectNode();
      event.put("type", type);
      event.put("sequence_number", sequence++);
      event.setAll(data);
      RunEventFollower.write(out, "event: " + type + "\ndata: " + Json.write(mapper, event) + "\n\n");
    }
  }

  /** Streams the response until its run settles or {@code maxWait} passes; a client that leaves only stops it. */
  void write(Context ctx, Responses.Created created, Duration maxWait) throws IOException, InterruptedException {
    Sent sent = new Sent(RunEventFollower.open(ctx));
    Responses.Stored response = created.response();
    ResponseView.Snapshot first = responses.snapshot(response);
    ObjectNode starting = view.response(first, "in_progress", List.of());
    sent.event("response.created", object("response", starting));
    sent.event("response.in_progress", object("response", starting));
    if (follower.follow(response.runId(), created.eventsBefore(), maxWait, sent.out,
        event -> handle(sent, response, event))) {
      return;
    }
    ObjectNode timeout = mapper.createObjectNode();
    timeout.put("code", "run_timeout");
    timeout.put("message", "the run did not finish within " + maxWait.toSeconds() + " s; it goes on (run "
        + response.runId() + "; GET /v1/responses/" + response.id() + ")");
    timeout.putNull("param");
    sent.event("error", timeout);
  }

  /** Sends what {@code event} means to the client; true when the stream is over. */
  private boolean handle(Sent sent, Responses.Stored response, RunEvent event) throws IOException {
    switch (event.type()) {
      case "llm_call.started" -> {
        sent.modelStep = event.data().path("step").asInt();
        if (event.data().path("resumed").asBoolean(false)) {
          abandonOpenMessage(sent);
        }
      }
      case "message.delta" -> delta(sent, response.runId(), event.data().path("text").asText(""));
      case "llm_call.completed", "tool_call.completed" ->
          sendFinishedItems(sent, responses.snapshot(response), event.data().path("step").asInt());
      case "run.completed", "run.failed", "run.cancelled", "run.requires_action" -> {
        ResponseView.Snapshot snapshot = responses.snapshot(response);
        sendFinishedItems(sent, snapshot, Integer.MAX_VALUE);
        ObjectNode whole = view.response(snapshot);
        String type = switch (whole.path("status").asText()) {
          case "completed" -> "response.completed";
          case "incomplete" -> "response.incomplete";
          default -> "response.failed";
        };
        sent.event(type, object("response", whole));
        return true;
      }
      default -> {
        // Other journal events (the run's state, tool calls created) show in the items above.
      }
    }
    return false;
  }

  private void delta(Sent sent, String runId, String text) throws IOException {
    if (text.isEmpty()) {
      return;
    }
    String id = ResponseView.messageId(runId, sent.modelStep);
    if (sent.openMessage == null && sent.items.contains(id)) {
      // Its model call's answer was sent whole already (read ahead of its events).
      return;
    }
    if (sent.openMessage == null) {
      sent.openMessage = id;
      sent.openIndex = sent.nextOutputIndex++;
      sent.items.add(sent.openMessage);
      sent.openText.setLength(0);
      sent.event("response.output_item.added", itemEvent(sent.openIndex,
          view.message(sent.openMessage, null, "in_progress")));
      sent.event("response.content_part.added", partEvent(sent.openMessage, sent.openIndex, view.textPart("")));
    }
    sent.openText.append(text);
    ObjectNode delta = mapper.createObjectNode();
    delta.put("item_id", sent.openMessage);
    delta.put("output_index", sent.openIndex);
    delta.put("content_index", 0);
    delta.put("delta", text);
    delta.putArray("logprobs");
    sent.event("response.output_text.delta", delta);
  }

  /**
   * A model call retried after a crash: the text streamed of the lost attempt ends as an
   * incomplete item, and the retried attempt's text is streamed as a new one.
   */
  private void abandonOpenMessage(Sent sent) throws IOException {
    if (sent.openMessage == null) {
      return;
    }
    ObjectNode partial = view.message(sent.openMessage, sent.openText.toString(), "incomplete");
    sent.event("response.output_item.done", itemEvent(sent.openIndex, partial));
    sent.items.remove(sent.openMessage);
    sent.openMessage = null;
  }

  /**
   * Sends, in order, the items up to {@code lastStep} not sent yet that will not change any more,
   * and closes the message being streamed once its model call is recorded. Items of later steps
   * (the snapshot may be ahead of the events read) wait for their own events; sending stops at
   * the first item still in progress, so that items are sent in the order of the output.
   */
  private void sendFinishedItems(Sent sent, ResponseView.Snapshot snapshot, int lastStep) throws IOException {
    for (ResponseView.Item entry : view.items(snapshot)) {
      if (entry.step() > lastStep) {
        return;
      }
      ObjectNode item = entry.json();
      String id = item.path("id").asText();
      if (id.equals(sent.openMessage)) {
        closeMessage(sent, item);
        continue;
      }
      if (sent.items.contains(id)) {
        continue;
      }
      if (!ResponseView.isFinal(item)) {
        return;
      }
      sent.items.add(id);
      int index = sent.nextOutputIndex++;
      if (item.path("type").asText().equals("message")) {
        String text = item.path("content").path(0).path("text").asText("");
        sent.event("response.output_item.added", itemEvent(index, view.message(id, null, "in_progress")));
        sent.event("response.content_part.added", partEvent(id, index, view.textPart("")));
        ObjectNode delta = mapper.createObjectNode();
        delta.put("item_id", id);
        delta.put("output_index", index);
        delta.put("content_index", 0);
        delta.put("delta", text);
        delta.putArray("logprobs");
        sent.event("response.output_text.delta", delta);
        finishText(sent, id, index, item, text);
      } else {
        sent.event("response.output_item.added", itemEvent(index, item));
        sent.event("response.output_item.done", itemEvent(index, item));
      }
    }
  }

  private void closeMessage(Sent sent, ObjectNode item) throws IOException {
    String text = item.path("content").path(0).path("text").asText(sent.openText.toString());
    finishText(sent, sent.openMessage, sent.openIndex, item, text);
    sent.openMessage = null;
  }

  private void finishText(Sent sent, String id, int index, ObjectNode item, String text) throws IOException {
    ObjectNode done = mapper.createObjectNode();
    done.put("item_id", id);
    done.put("output_index", index);
    done.put("content_index", 0);
    done.put("text", text);
    done.putArray("logprobs");
    sent.event("response.output_text.done", done);
    sent.event("response.content_part.done", partEvent(id, index, view.textPart(text)));
    sent.event("response.output_item.done", itemEvent(index, item));
  }

  private ObjectNode itemEvent(int outputIndex, ObjectNode item) {
    ObjectNode data = mapper.createObjectNode();
    data.put("output_index", outputIndex);
    data.set("item", item);
    return data;
  }

  private ObjectNode partEvent(String itemId, int outputIndex, ObjectNode part) {
    ObjectNode data = mapper.createObjectNode();
    data.put("item_id", itemId);
    data.put("output_index", outputIndex);
    data.put("content_index", 0);
    data.set("part", part);
    return data;
  }

  private ObjectNode object(String field, ObjectNode value) {
    ObjectNode data = mapper.createObjectNode();
    data.set(field, value);
    return data;
  }
}
