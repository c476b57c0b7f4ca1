package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one answer out of a non-streamed body or out of stream chunks, tolerating what real
 * servers send: tool calls split across chunks and interleaved by index, {@code tool_calls} as an
 * object, ids and names only in the first delta (or {@code ""} later), a whole call per chunk with
 * the same index (Ollama), arguments as an object, usage on any chunk, chunks without choices,
 * reasoning in {@code reasoning_content}, {@code reasoning} or {@code reasoning_text}.
 */
final class ResponseAssembler {
  private static final List<String> REASONING_FIELDS = List.of("reasoning_content", "reasoning", "reasoning_text");

  /** The parts of a {@link ChatResult} that come from the response. */
  record Answer(String content, String reasoning, List<ToolCall> toolCalls, String finishReason, Usage usage) {}

  private final TextToolCalls textToolCalls;
  private final StringBuilder content = new StringBuilder();
  private final StringBuilder reasoning = new StringBuilder();
  private final List<Slot> slots = new ArrayList<>();
  private final Map<Integer, Slot> slotByIndex = new HashMap<>();
  private Slot lastSlot;
  private String responseId = "";
  private String finishReason;
  private Usage usage;

  ResponseAssembler(ObjectMapper mapper) {
    this.textToolCalls = new TextToolCalls(mapper);
  }

  /** One tool call being put together from deltas. */
  private static final class Slot {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
  }

  /** Reads a non-streamed chat-completions body. */
  void acceptBody(JsonNode body) {
    readEnvelope(body);
    JsonNode choice = firstChoice(body);
    if (choice == null) {
      return;
    }
    readFinishReason(choice);
    JsonNode message = choice.path("message");
    appendText(message);
    // Calls in a finished message are separate calls, whatever their index says (TGI sends none).
    for (JsonNode call : toolCallsOf(message)) {
      Slot slot = newSlot(null);
      fill(slot, call);
    }
  }

  /**
   * Reads one stream chunk.
   *
   * @return the text it adds to the answer, or null
   */
  String acceptChunk(JsonNode chunk) {
    readEnvelope(chunk);
    JsonNode choice = firstChoice(chunk);
    if (choice == null) {
      return null;
    }
    readFinishReason(choice);
    JsonNode delta = choice.has("delta") ? choice.get("delta") : choice.path("message");
    for (JsonNode call : toolCallsOf(delta)) {
      fill(slotFor(call), call);
    }
    return appendText(delta);
  }

  /** True once a choice reported why it stopped; a stream that ends before that was cut. */
  boolean finished() {
    return finishReason != null;
  }

  Answer answer() {
    List<ToolCallIds.Draft> drafts = new ArrayList<>();
    for (Slot slot : slots) {
      if (slot.name != null || !slot.arguments.isEmpty()) {
        drafts.add(new ToolCallIds.Draft(slot.id, slot.name == null ? "" : slot.name, argumentsOf(slot)));
      }
    }
    String text = content.toString();
    if (drafts.isEmpty()) {
      TextToolCalls.Extracted extracted = textToolCalls.extract(text);
      for (TextToolCalls.Found found : extracted.calls()) {
        drafts.add(new ToolCallIds.Draft(null, found.name(), found.arguments()));
      }
      text = extracted.remainingText();
    }
    List<ToolCall> toolCalls = ToolCallIds.assign(responseId, drafts);
    // Servers send null, "" or "\n\n" beside tool calls; all mean "no text".
    String finalText = !toolCalls.isEmpty() && text.isBlank() ? null : text;
    String reasoningText = reasoning.isEmpty() ? null : reasoning.toString();
    return new Answer(finalText, reasoningText, toolCalls, finishReason, usage);
  }

  private void readEnvelope(JsonNode json) {
    JsonNode id = json.get("id");
    if (responseId.isEmpty() && id != null && id.isTextual()) {
      responseId = id.asText();
    }
    JsonNode usageJson = json.get("usage");
    if (usageJson != null && usageJson.isObject()) {
      usage = usageOf(usageJson);
    }
  }

  private void readFinishReason(JsonNode choice) {
    JsonNode reason = choice.get("finish_reason");
    if (reason != null && reason.isTextual() && !reason.asText().isEmpty()) {
      finishReason = reason.asText();
    }
  }

  private String appendText(JsonNode messageOrDelta) {
    for (String field : REASONING_FIELDS) {
      JsonNode value = messageOrDelta.get(field);
      if (value != null && value.isTextual()) {
        reasoning.append(value.asText());
      }
    }
    JsonNode text = messageOrDelta.get("content");
    if (text == null || !text.isTextual() || text.asText().isEmpty()) {
      return null;
    }
    content.append(text.asText());
    return text.asText();
  }

  /** The calls in a message or delta: TGI ≤ 2.4 streams a single object instead of an array. */
  private static List<JsonNode> toolCallsOf(JsonNode messageOrDelta) {
    JsonNode calls = messageOrDelta.get("tool_calls");
    List<JsonNode> list = new ArrayList<>();
    if (calls == null) {
      return list;
    }
    if (calls.isObject()) {
      list.add(calls);
    } else if (calls.isArray()) {
      calls.forEach(call -> {
        if (call.isObject()) {
          list.add(call);
        }
      });
    }
    return list;
  }

  /**
   * The slot a delta continues: the one at its index, unless the delta brings a new id for an
   * index that already has one (Ollama numbers every call 0), or a delta without index continues
   * the last call.
   */
  private Slot slotFor(JsonNode delta) {
    JsonNode indexNode = delta.get("index");
    Integer index = indexNode != null && indexNode.canConvertToInt() ? indexNode.asInt() : null;
    Slot existing = index != null ? slotByIndex.get(index) : lastSlot;
    String id = nonEmptyText(delta.get("id"));
    if (existing == null || (id != null && existing.id != null && !existing.id.equals(id))) {
      return newSlot(index);
    }
    return existing;
  }

  private Slot newSlot(Integer index) {
    Slot slot = new Slot();
    slots.add(slot);
    if (index != null) {
      slotByIndex.put(index, slot);
    }
    lastSlot = slot;
    return slot;
  }

  private static void fill(Slot slot, JsonNode delta) {
    JsonNode function = delta.path("function");
    if (slot.id == null) {
      slot.id = nonEmptyText(delta.get("id"));
    }
    if (slot.name == null) {
      slot.name = nonEmptyText(function.get("name"));
    }
    JsonNode arguments = function.get("arguments");
    if (arguments == null || arguments.isNull()) {
      return;
    }
    // TGI sends the arguments as a JSON object; the contract is JSON text.
    slot.arguments.append(arguments.isTextual() ? arguments.asText() : arguments.toString());
  }

  private static String argumentsOf(Slot slot) {
    String text = slot.arguments.toString();
    return text.isBlank() ? "{}" : text;
  }

  private static JsonNode firstChoice(JsonNode json) {
    JsonNode choices = json.get("choices");
    if (choices == null || !choices.isArray() || choices.isEmpty()) {
      return null;
    }
    for (JsonNode choice : choices) {
      if (choice.path("index").asInt(0) == 0) {
        return choice;
      }
    }
    return null;
  }

  private static Usage usageOf(JsonNode json) {
    int prompt = json.path("prompt_tokens").asInt(0);
    int completion = json.path("completion_tokens").asInt(0);
    int total = json.has("total_tokens") ? json.path("total_tokens").asInt(0) : prompt + completion;
    return new Usage(prompt, completion, total);
  }

  private static String nonEmptyText(JsonNode node) {
    return node != null && node.isTextual() && !node.asText().isEmpty() ? node.asText() : null;
  }
}
