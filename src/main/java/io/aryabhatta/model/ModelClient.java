package io.aryabhatta.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Consumer;

public final class ModelClient {
  public ChatResult complete(ModelEndpoint endpoint, ChatRequest request, Consumer<String> onTextDelta) {
    throw new UnsupportedOperationException("stub");
  }

  public JsonNode listModels(ModelEndpoint endpoint) {
    throw new UnsupportedOperationException("stub");
  }
}
