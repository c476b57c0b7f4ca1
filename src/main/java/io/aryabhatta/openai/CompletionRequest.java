package io.aryabhatta.openai;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;

import io.aryabhatta.errors.FieldError;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ToolCall;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code POST /v1/chat/completions} body, checked. The client's conversation is split the way a
 * run needs it: system (and developer) messages, the earlier turns, and the last user message,
 * which becomes the run's input. Sampling parameters and other OpenAI fields are accepted and
 * ignored: the agent's version defines them.
 *
 * @param model the agent's name
 * @param systemPrompt the client's system and developer messages joined, or null
 * @param earlier user, assistant and tool messages before the last user message
 * @param input the last user message
 * @param callbackUrl {@code metadata.callback_url}: told how the run ended, or null
 */
record CompletionRequest(String model, String systemPrompt, List<ChatMessage> earlier, String input, boolean stream,
    boolean includeUsage, String callbackUrl) {

  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

  static CompletionRequest parse(JsonNode body) {
    if (!body.isObject()) {
      throw new DomainException.InvalidRequest("the request body must be a JSON object");
    }
    List<FieldError> errors = new ArrayList<>();
    String model = text(body.get("model"));
    if (model == null || model.isBlank()) {
      errors.add(new FieldError("model", "is required: the name of one of the workspace's agents"));
    }
    boolean stream = flag(body.get("stream"), "stream", errors);
    boolean includeUsage = flag(body.path("stream_options").get("include_usage"), "stream_options.include_usage",
        errors);
    unsupported(body, errors);
    String callbackUrl = CallbackMetadata.of(body, errors);
    Messages messages = Messages.parse(body.get("messages"), errors);
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new CompletionRequest(model, messages.system(), messages.earlier(), messages.input(), stream,
        includeUsage, callbackUrl);
  }

  /** Fields that change what the client gets back in ways an agent run cannot honour. */
  private static void unsupported(JsonNode body, List<FieldError> errors) {
    JsonNode n = body.get("n");
    if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asInt() == 1)) {
      errors.add(new FieldError("n", "only one choice (n = 1) is supported"));
    }
    for (String field : List.of("tools", "functions")) {
      JsonNode tools = body.get(field);
      if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
        errors.add(new FieldError(field, "client-side tools are not supported: the agent's own tools run on the "
            + "server; define tools in the platform API"));
      }
    }
    JsonNode format = body.get("response_format");
    if (format != null && !format.isNull() && !"text".equals(format.path("type").asText())) {
      errors.add(new FieldError("response_format", "only type 'text' is supported; describe the wanted format in "
          + "the agent's system prompt"));
    }
  }

  private static boolean flag(JsonNode value, String field, List<FieldError> errors) {
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      errors.add(new FieldError(field, "must be a boolean"));
      return false;
    }
    return value.asBoolean();
  }

  private static String text(JsonNode node) {
    return node != null && node.isTextual() ? node.asText() : null;
  }

  /** The messages array, read in order, with each tool message matched to the call it answers. */
  private record Messages(String system, List<ChatMessage> earlier, String input) {

    static Messages parse(JsonNode array, List<FieldError> errors) {
      if (array == null || !array.isArray() || array.isEmpty()) {
        errors.add(new FieldError("messages", "is required: a non-empty array of messages"));
        return new Messages(null, List.of(), null);
      }
      List<String> system = new ArrayList<>();
      List<ChatMessage> turns = new ArrayList<>();
      Map<String, String> openCalls = new LinkedHashMap<>();
      for (int i = 0; i < array.size(); i++) {
        String at = "messages[" + i + "]";
        JsonNode m = array.get(i);
        String role = text(m.get("role"));
        if (role == null || !ROLES.contains(role)) {
          errors.add(new FieldError(at + ".role", "must be one of system, developer, user, assistant, tool"));
          continue;
        }
        String content = TextContent.of(m.get("content"), at + ".content", Set.of("text"), errors);
        switch (role) {
          case "system", "developer" -> {
            if (content != null && !content.isBlank()) {
              system.add(content);
            }
          }
          case "user" -> {
            if (content == null) {
              errors.add(new FieldError(at + ".content", "is required for a user message"));
            }
            turns.add(ChatMessage.user(content));
          }
          case "assistant" -> {
            List<ToolCall> calls = toolCalls(m.get("tool_calls"), at + ".tool_calls", errors);
            calls.forEach(c -> openCalls.put(c.id(), c.name()));
            turns.add(ChatMessage.assistant(content, calls));
          }
          default -> {
            String callId = text(m.get("tool_call_id"));
            String name = callId == null ? null : openCalls.remove(callId);
            if (name == null) {
              errors.add(new FieldError(at + ".tool_call_id",
                  "must name a tool call of an earlier assistant message that has no answer yet"));
            }
            turns.add(ChatMessage.tool(callId, name, content == null ? "" : content));
          }
        }
      }
      if (!openCalls.isEmpty()) {
        errors.add(new FieldError("messages", "tool calls without a tool message answering them: "
            + openCalls.keySet()));
      }
      if (turns.isEmpty() || !turns.get(turns.size() - 1).role().equals("user")) {
        errors.add(new FieldError("messages", "the last message (apart from system messages) must be a user message"));
        return new Messages(null, List.of(), null);
      }
      String input = turns.remove(turns.size() - 1).content();
      return new Messages(system.isEmpty() ? null : String.join("\n\n", system), turns, input);
    }

    private static List<ToolCall> toolCalls(JsonNode node, String at, List<FieldError> errors) {
      List<ToolCall> calls = new ArrayList<>();
      if (node == null || node.isNull()) {
        return calls;
      }
      if (!node.isArray()) {
        errors.add(new FieldError(at, "must be an array"));
        return calls;
      }
      for (int j = 0; j < node.size(); j++) {
        JsonNode call = node.get(j);
        String id = text(call.get("id"));
        String name = text(call.path("function").get("name"));
        JsonNode arguments = call.path("function").get("arguments");
        if (id == null || name == null) {
          errors.add(new FieldError(at + "[" + j + "]", "needs an id and function.name"));
          continue;
        }
        String args = arguments == null || arguments.isNull() ? "{}"
            : arguments.isTextual() ? arguments.asText() : arguments.toString();
        calls.add(new ToolCall(id, name, args));
      }
      return calls;
    }
  }
}
