package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The chat-completions wire format exactly as {@link ModelClient} writes and reads it, without a
 * network call: used to check a recorded model call against what today's code would send and how
 * it would read the recorded answer.
 */
public final class WireFormat {
  private final ObjectMapper mapper;
  private final ChatRequestJson requestJson;

  public WireFormat(ObjectMapper mapper) {
    this.mapper = mapper;
    this.requestJson = new ChatRequestJson(mapper);
  }

  /** What an answer says, as the agent loop uses it. */
  public record Parsed(String content, List<ToolCall> toolCalls, String finishReason) {}

  /** The request body {@link ModelClient#complete} would send for {@code request}. */
  public ObjectNode requestBody(ChatRequest request) {
    return requestJson.write(request);
  }

  /** {@code request} with its body written once, to be journaled and sent as it is. */
  public WrittenRequest write(ChatRequest request) {
    ObjectNode body = requestJson.write(request);
    return new WrittenRequest(request, body, io.aryabhatta.json.Json.write(mapper, body));
  }

  /**
   * Reads a recorded response as {@link ModelClient} does: a JSON body, or (for a streamed call) the
   * list of chunks received.
   */
  public Parsed parse(JsonNode raw) {
    ResponseAssembler assembler = new ResponseAssembler(mapper);
    if (raw != null && raw.isArray()) {
      raw.forEach(assembler::acceptChunk);
    } else if (raw != null && raw.isObject()) {
      assembler.acceptBody(raw);
    }
    ResponseAssembler.Answer answer = assembler.answer();
    return new Parsed(answer.content(), answer.toolCalls(), answer.finishReason());
  }
}
