package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.tools.ClientTools;
import io.aryabhatta.tools.ParameterSchemas;
import io.aryabhatta.tools.ToolDefinition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@code POST /v1/responses} body, checked. Its {@code input} (a string, or a list of input
 * items) is split the way a run needs it: system and developer messages (which follow the agent's
 * prompt with {@code instructions}), the earlier turns, the last user message (the run's input),
 * and the answers to a previous response that waits for the client: {@code function_call_output}
 * and {@code mcp_approval_response} items. Sampling parameters and other OpenAI fields are accepted
 * and ignored: the agent's version defines them.
 *
 * @param model the agent's name
 * @param systemPrompt {@code instructions}, then the input's system and developer messages, or null
 * @param input the last user message, or null when the input only answers a previous response
 * @param clientTools the request's function tools, offered beside the agent's own
 * @param callbackUrl {@code metadata.callback_url}: told how the run the response starts ended, or null
 */
record ResponseRequest(String model, String systemPrompt, List<ChatMessage> earlier, String input,
    List<Output> outputs, List<Approval> approvals, List<ToolDefinition> clientTools, String instructions,
    String previousResponseId, boolean stream, boolean store, boolean background, String callbackUrl) {

  private static final ParameterSchemas SCHEMAS = new ParameterSchemas();
  private static final Set<String> TEXT_PARTS = Set.of("input_text", "output_text", "text");

  /** A {@code function_call_output} item: the output of a call of a client function tool. */
  record Output(String callId, String output) {}

  /** An {@code mcp_approval_response} item: a decision on a tool call that waits for approval. */
  record Approval(String requestId, boolean approve, String reason) {}

  /** The same request, continuing {@code responseId}. */
  ResponseRequest withPrevious(String responseId) {
    return new ResponseRequest(model, systemPrompt, earlier, input, outputs, approvals, clientTools, instructions,
        responseId, stream, store, background, callbackUrl);
  }

  boolean answersPrevious() {
    return !outputs.isEmpty() || !approvals.isEmpty();
  }

  static ResponseRequest parse(JsonNode body) {
    if (!body.isObject()) {
      throw new DomainException.InvalidRequest("the request body must be a JSON object");
    }
    List<FieldError> errors = new ArrayList<>();
    String model = text(body.get("model"), "model", errors);
    if (model == null || model.isBlank()) {
      errors.add(new FieldError("model", "is required: the name of one of the workspace's agents"));
    }
    String instructions = text(body.get("instructions"), "instructions", errors);
    String previous = text(body.get("previous_response_id"), "previous_response_id", errors);
    boolean stream = flag(body.get("stream"), "stream", false, errors);
    boolean store = flag(body.get("store"), "store", true, errors);
    boolean background = flag(body.get("background"), "background", false, errors);
    if (background && stream) {
      errors.add(new FieldError("background", "cannot be combined with stream; read the response with "
          + "GET /v1/responses/{id}"));
    }
    if (background && !store) {
      errors.add(new FieldError("background", "needs store: a background response is read later by its id"));
    }
    List<ToolDefinition> tools = tools(body.get("tools"), errors);
    unsupported(body, errors);
    String callbackUrl = CallbackMetadata.of(body, errors);
    Items items = Items.parse(body.get("input"), previous != null, errors);
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    List<String> system = new ArrayList<>();
    if (instructions != null && !instructions.isBlank()) {
      system.add(instructions);
    }
    system.addAll(items.system());
    return new ResponseRequest(model, system.isEmpty() ? null : String.join("\n\n", system), items.earlier(),
        items.input(), items.outputs(), items.approvals(), tools, instructions, previous, stream, store, background,
        callbackUrl);
  }

  private static void unsupported(JsonNode body, List<FieldError> errors) {
    JsonNode format = body.path("text").get("format");
    if (format != null && !format.isNull() && !"text".equals(format.path("type").asText())) {
      errors.add(new FieldError("text.format", "only type 'text' is supported; describe the wanted format in the "
          + "agent's system prompt"));
    }
    JsonNode conversation = body.get("conversation");
    if (conversation != null && !conversation.isNull()) {
      errors.add(new FieldError("conversation", "is not supported: continue with previous_response_id"));
    }
  }

  /** Function tools only: the agent's own tools (built-in, http, MCP) are defined in the platform API. */
  private static List<ToolDefinition> tools(JsonNode node, List<FieldError> errors) {
    List<ToolDefinition> tools = new ArrayList<>();
    if (node == null || node.isNull()) {
      return tools;
    }
    if (!node.isArray()) {
      errors.add(new FieldError("tools", "must be an array"));
      return tools;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "tools[" + i + "]";
      JsonNode tool = node.get(i);
      if (!"function".equals(tool.path("type").asText())) {
        errors.add(new FieldError(at + ".type", "only function tools are supported; the agent's own tools (built-in, "
            + "http, MCP) are defined in the platform API and run on the server"));
        continue;
      }
      String name = tool.path("name").asText("");
      if (!name.matches("[a-zA-Z0-9_-]{1,64}")) {
        errors.add(new FieldError(at + ".name", "is required: 1 to 64 letters, digits, '_' or '-'"));
        continue;
      }
      if (!names.add(name)) {
        errors.add(new FieldError(at + ".name", "names another function tool of this request already"));
        continue;
      }
      JsonNode parameters = tool.get("parameters");
      if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
        errors.add(new FieldError(at + ".parameters", "must be a JSON Schema object"));
        continue;
      }
      if (parameters != null && !parameters.isNull()) {
        List<String> problems = SCHEMAS.problems(parameters);
        if (!problems.isEmpty()) {
          errors.add(new FieldError(at + ".parameters", String.join("; ", problems)));
          continue;
        }
      }
      JsonNode description = tool.get("description");
      tools.add(ClientTools.of(name, description != null && description.isTextual() ? description.asText() : null,
          parameters == null || parameters.isNull() ? emptyObjectSchema() : parameters));
    }
    return tools;
  }

  private static JsonNode emptyObjectSchema() {
    com.fasterxml.jackson.databind.node.ObjectNode schema =
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    schema.put("type", "object");
    schema.putObject("properties");
    return schema;
  }

  private static boolean flag(JsonNode value, String field, boolean absent, List<FieldError> errors) {
    if (value == null || value.isNull()) {
      return absent;
    }
    if (!value.isBoolean()) {
      errors.add(new FieldError(field, "must be a boolean"));
      return absent;
    }
    return value.asBoolean();
  }

  private static String text(JsonNode node, String field, List<FieldError> errors) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      errors.add(new FieldError(field, "must be a string"));
      return null;
    }
    return node.asText();
  }

  /** The input, read in order. */
  private record Items(List<String> system, List<ChatMessage> earlier, String input, List<Output> outputs,
      List<Approval> approvals) {

    static Items parse(JsonNode node, boolean continuing, List<FieldError> errors) {
      List<String> system = new ArrayList<>();
      List<ChatMessage> turns = new ArrayList<>();
      List<Output> outputs = new ArrayList<>();
      List<Approval> approvals = new ArrayList<>();
      if (node != null && node.isTextual()) {
        return new Items(system, List.of(), node.asText(), outputs, approvals);
      }
      if (node == null || !node.isArray() || node.isEmpty()) {
        errors.add(new FieldError("input", "is required: a string or a non-empty array of input items"));
        return new Items(system, List.of(), null, outputs, approvals);
      }
      for (int i = 0; i < node.size(); i++) {
        String at = "input[" + i + "]";
        JsonNode item = node.get(i);
        String type = item.path("type").asText(item.has("role") ? "message" : "");
        switch (type) {
          case "message" -> message(item, at, system, turns, errors);
          case "function_call" -> {
            String callId = item.path("call_id").asText(null);
            String name = item.path("name").asText(null);
            if (callId == null || name == null) {
              errors.add(new FieldError(at, "a function_call item needs call_id and name"));
              continue;
            }
            JsonNode arguments = item.get("arguments");
            turns.add(ChatMessage.assistant(null, List.of(new ToolCall(callId, name,
                arguments == null || arguments.isNull() ? "{}" : arguments.isTextual() ? arguments.asText()
                    : arguments.toString()))));
          }
          case "function_call_output" -> {
            String callId = item.path("call_id").asText(null);
            JsonNode output = item.get("output");
            if (callId == null || output == null || output.isNull()) {
              errors.add(new FieldError(at, "a function_call_output item needs call_id and output"));
              continue;
            }
            String text = output.isTextual() ? output.asText() : output.toString();
            String name = functionName(turns, callId);
            if (continuing) {
              outputs.add(new Output(callId, text));
            } else if (name == null) {
              errors.add(new FieldError("previous_response_id", "is required to answer function calls of an "
                  + "earlier response (" + at + " answers call '" + callId + "', which this input does not hold)"));
            } else {
              turns.add(ChatMessage.tool(callId, name, text));
            }
          }
          case "mcp_approval_response" -> {
            String requestId = item.path("approval_request_id").asText(null);
            if (requestId == null || !item.path("approve").isBoolean()) {
              errors.add(new FieldError(at, "an mcp_approval_response item needs approval_request_id and approve "
                  + "(a boolean)"));
              continue;
            }
            approvals.add(new Approval(requestId, item.get("approve").asBoolean(),
                item.path("reason").isTextual() ? item.get("reason").asText() : null));
          }
          // Items of the platform's own tool calls, sent back as history: the platform has them.
          case "mcp_call", "mcp_approval_request", "mcp_list_tools", "reasoning" -> { }
          default -> errors.add(new FieldError(at + ".type", "must be message, function_call, function_call_output "
              + "or mcp_approval_response"));
        }
      }
      if (!errors.isEmpty()) {
        return new Items(system, List.of(), null, outputs, approvals);
      }
      if (!continuing && (!outputs.isEmpty() || !approvals.isEmpty())) {
        errors.add(new FieldError("previous_response_id", "is required to answer function calls or approval "
            + "requests"));
      }
      if (!continuing && !turns.isEmpty() && turns.get(turns.size() - 1).role().equals("tool")) {
        // The whole history again (clients that keep it themselves), ending with the outputs of
        // the function calls a response ended with: those outputs answer the run that waits for them.
        while (!turns.isEmpty() && turns.get(turns.size() - 1).role().equals("tool")) {
          ChatMessage answer = turns.remove(turns.size() - 1);
          outputs.add(0, new Output(answer.toolCallId(), answer.content()));
        }
        return new Items(system, List.of(), null, outputs, approvals);
      }
      boolean endsWithUser = !turns.isEmpty() && turns.get(turns.size() - 1).role().equals("user");
      if (!endsWithUser) {
        if (outputs.isEmpty() && approvals.isEmpty()) {
          errors.add(new FieldError("input", "the last item (apart from system messages) must be a user message"));
        } else if (!turns.isEmpty()) {
          errors.add(new FieldError("input", "answers to a previous response cannot come with other turns unless "
              + "they end with a user message"));
        }
        return new Items(system, turns, null, outputs, approvals);
      }
      String input = turns.remove(turns.size() - 1).content();
      if (!outputs.isEmpty() || !approvals.isEmpty()) {
        errors.add(new FieldError("input", "answer the previous response's function calls or approval requests "
            + "first; send the new user message with the next request"));
      }
      return new Items(system, turns, input, outputs, approvals);
    }

    private static String functionName(List<ChatMessage> turns, String callId) {
      for (int i = turns.size() - 1; i >= 0; i--) {
        for (ToolCall call : turns.get(i).toolCalls()) {
          if (call.id().equals(callId)) {
            return call.name();
          }
        }
      }
      return null;
    }

    private static void message(JsonNode item, String at, List<String> system, List<ChatMessage> turns,
        List<FieldError> errors) {
      String role = item.path("role").asText("");
      String content = TextContent.of(item.get("content"), at + ".content", TEXT_PARTS, errors);
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
        case "assistant" -> turns.add(ChatMessage.assistant(content, List.of()));
        default -> errors.add(new FieldError(at + ".role", "must be one of user, assistant, system, developer"));
      }
    }
  }
}
