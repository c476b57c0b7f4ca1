package io.aryabhatta.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.model.Usage;
import java.util.List;

/** The response objects of OpenAI's API that the compatible API answers with. */
final class OpenAiObjects {
  static final String OWNER = "aryabhatta";

  private OpenAiObjects() {}

  record Model(String id, String object, long created, String ownedBy) {
    Model(String id, long created) {
      this(id, "model", created, OWNER);
    }
  }

  record ModelList(String object, List<Model> data) {
    ModelList(List<Model> data) {
      this("list", data);
    }
  }

  record ChatCompletion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {
    ChatCompletion(String id, long created, String model, String content, Usage usage) {
      this(id, "chat.completion", created, model,
          List.of(new Choice(0, new AssistantMessage("assistant", content, null), null, "stop")), usage);
    }
  }

  record Choice(int index, AssistantMessage message, Object logprobs, String finishReason) {}

  record AssistantMessage(String role, String content, String refusal) {}

  /** One {@code chat.completion.chunk}; {@code usage} is set only on the last chunk, whose choices are empty. */
  record Chunk(String id, String object, long created, String model, List<ChunkChoice> choices, JsonNode usage) {
    Chunk(String id, long created, String model, List<ChunkChoice> choices, JsonNode usage) {
      this(id, "chat.completion.chunk", created, model, choices, usage);
    }
  }

  record ChunkChoice(int index, Delta delta, Object logprobs, String finishReason) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Delta(String role, String content) {}
}
