package io.aryabhatta.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStatus;
import io.aryabhatta.runs.Step;
import io.aryabhatta.runs.StepStatus;
import io.aryabhatta.tools.ToolDefinition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A response object drawn from its run's journal. Each model call's text is a {@code message}
 * item; each call of one of the agent's tools, executed by the platform, an {@code mcp_call} item
 * (server label {@value #SERVER_LABEL}) with the output the model saw; a call that waits for
 * approval an {@code mcp_approval_request} item; a call of a client function tool a
 * {@code function_call} item. Item ids are derived from the run and the step, so a stream and a
 * later {@code GET} name the same items alike.
 */
final class ResponseView {
  static final String SERVER_LABEL = "aryabhatta";

  private final ObjectMapper mapper;

  ResponseView(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** What a response is drawn from, read together. */
  record Snapshot(Responses.Stored response, Run run, List<Step> steps, List<Message> runMessages,
      List<ToolDefinition> clientTools) {}

  static String messageId(String runId, int step) {
    return "msg_" + runId + "_" + step;
  }

  /** An output item, and the step of the run it shows. */
  record Item(int step, ObjectNode json) {}

  ObjectNode response(Snapshot s) {
    return response(s, status(s.run()), items(s).stream().map(Item::json).toList());
  }

  ObjectNode response(Snapshot s, String status, List<ObjectNode> output) {
    Responses.Stored r = s.response();
    ObjectNode o = mapper.createObjectNode();
    o.put("id", r.id());
    o.put("object", "response");
    o.put("created_at", r.createdAt().getEpochSecond());
    o.put("status", status);
    o.set("error", error(s.run(), status));
    o.set("incomplete_details", status.equals("incomplete")
        ? mapper.createObjectNode().put("reason", "tool_outcome_unknown") : null);
    o.put("instructions", r.instructions());
    o.putNull("max_output_tokens");
    o.put("model", r.model());
    o.putArray("output").addAll(output);
    o.put("parallel_tool_calls", true);
    o.put("previous_response_id", r.previousResponseId());
    o.put("store", r.store());
    o.put("tool_choice", "auto");
    ArrayNode tools = o.putArray("tools");
    for (ToolDefinition t : s.clientTools()) {
      tools.addObject().put("type", "function").put("name", t.name()).put("description", t.description())
          .put("strict", false).set("parameters", t.parameters());
    }
    o.put("truncation", "disabled");
    o.putObject("text").putObject("format").put("type", "text");
    o.set("usage", usage(s));
    o.putObject("metadata");
    o.put("run_id", s.run().id());
    return o;
  }

  /**
   * OpenAI's status for the run as it stands: a run that waits for the client (its function calls'
   * outputs, approvals) gave a complete response; one that waits for a person to settle a call of
   * unknown outcome is {@code incomplete}.
   */
  static String status(Run run) {
    return switch (run.status()) {
      case QUEUED -> "queued";
      case RUNNING, WAITING -> "in_progress";
      case COMPLETED -> "completed";
      case FAILED -> "failed";
      case CANCELLED -> "cancelled";
      case REQUIRES_ACTION -> "resolve_unknown_outcome".equals(actionType(run)) ? "incomplete" : "completed";
    };
  }

  static String actionType(Run run) {
    return run.requiredAction() == null ? null : run.requiredAction().path("type").asText(null);
  }

  private JsonNode error(Run run, String status) {
    return switch (status) {
      case "failed", "cancelled", "incomplete" -> {
        var error = RunOutcomes.errorOf(run, 0);
        yield mapper.createObjectNode().put("code", error.code()).put("message", error.message());
      }
      default -> null;
    };
  }

  /** The output items, in the order of the run's steps from the response's first step on. */
  List<Item> items(Snapshot s) {
    Set<String> clientNames = s.clientTools().stream().map(ToolDefinition::name).collect(Collectors.toSet());
    Iterator<Message> answers = s.runMessages().stream().filter(m -> m.role().equals("assistant")).iterator();
    List<Item> items = new ArrayList<>();
    for (Step step : s.steps()) {
      // Each answered model call of the run added one assistant message, in order.
      Message answer = !step.isToolCall() && step.status() == StepStatus.COMPLETED && answers.hasNext()
          ? answers.next() : null;
      if (step.index() < s.response().firstStep()) {
        continue;
      }
      if (!step.isToolCall()) {
        if (answer != null && answer.content() != null && !answer.content().isEmpty()) {
          items.add(new Item(step.index(), message(messageId(s.run().id(), step.index()), answer.content(),
              "completed")));
        }
      } else if (step.status() == StepStatus.AWAITING_OUTPUT || clientNames.contains(step.name())) {
        // A client call still pending (the run waits for approvals of other calls first) is not
        // the client's to answer yet.
        if (step.status() != StepStatus.PENDING) {
          items.add(new Item(step.index(), functionCall(s.run().id(), step)));
        }
      } else if (step.status() == StepStatus.AWAITING_APPROVAL) {
        items.add(new Item(step.index(), approvalRequest(step)));
      } else {
        items.add(new Item(step.index(), toolCall(s.run().id(), step)));
      }
    }
    return items;
  }

  ObjectNode message(String id, String text, String status) {
    ObjectNode item = mapper.createObjectNode();
    item.put("id", id);
    item.put("type", "message");
    item.put("status", status);
    item.put("role", "assistant");
    ArrayNode content = item.putArray("content");
    if (text != null) {
      content.add(textPart(text));
    }
    return item;
  }

  ObjectNode textPart(String text) {
    ObjectNode part = mapper.createObjectNode();
    part.put("type", "output_text");
    part.put("text", text);
    part.putArray("annotations");
    return part;
  }

  private ObjectNode functionCall(String runId, Step step) {
    ObjectNode item = mapper.createObjectNode();
    item.put("id", "fc_" + runId + "_" + step.index());
    item.put("type", "function_call");
    item.put("status", "completed");
    item.put("call_id", step.toolCallId());
    item.put("name", step.name());
    item.put("arguments", step.arguments());
    return item;
  }

  /** Its id is the tool call's: an {@code mcp_approval_response} names it as {@code approval_request_id}. */
  private ObjectNode approvalRequest(Step step) {
    ObjectNode item = mapper.createObjectNode();
    item.put("id", step.toolCallId());
    item.put("type", "mcp_approval_request");
    item.put("server_label", SERVER_LABEL);
    item.put("name", step.name());
    item.put("arguments", step.arguments());
    return item;
  }

  /** A call the platform executed (or could not): what the model was told of it. */
  private ObjectNode toolCall(String runId, Step step) {
    ObjectNode item = mapper.createObjectNode();
    item.put("id", "mcp_" + runId + "_" + step.index());
    item.put("type", "mcp_call");
    item.put("server_label", SERVER_LABEL);
    item.put("name", step.name());
    item.put("arguments", step.arguments());
    item.put("status", switch (step.status()) {
      case COMPLETED -> "completed";
      case FAILED, REJECTED, CANCELLED -> "failed";
      case UNKNOWN_OUTCOME -> "incomplete";
      default -> "in_progress";
    });
    item.put("output", step.result());
    item.put("error", step.status() == StepStatus.UNKNOWN_OUTCOME
        ? "the outcome of this call is unknown: it may or may not have taken effect"
            + (step.error() == null ? "" : " (" + step.error() + ")")
        : step.error());
    return item;
  }

  /** Whether an item will not change any more (a stream sends it once, when it is). */
  static boolean isFinal(ObjectNode item) {
    return !item.path("type").asText().equals("mcp_call") || !item.path("status").asText().equals("in_progress");
  }

  /** The tokens of the response's own model calls. */
  private ObjectNode usage(Snapshot s) {
    int input = 0;
    int output = 0;
    for (Step step : s.steps()) {
      if (step.index() >= s.response().firstStep() && !step.isToolCall() && step.usage() != null) {
        input += step.usage().path("prompt_tokens").asInt();
        output += step.usage().path("completion_tokens").asInt();
      }
    }
    ObjectNode usage = mapper.createObjectNode();
    usage.put("input_tokens", input);
    usage.putObject("input_tokens_details").put("cached_tokens", 0);
    usage.put("output_tokens", output);
    usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
    usage.put("total_tokens", input + output);
    return usage;
  }

  static boolean waitsForClient(Run run) {
    return run.status() == RunStatus.REQUIRES_ACTION && !"resolve_unknown_outcome".equals(actionType(run));
  }
}
