package io.aryabhatta.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.json.Json;
import io.aryabhatta.tools.ToolContext;
import io.aryabhatta.tools.ToolDefinition;
import io.aryabhatta.tools.ToolInvoker;
import io.aryabhatta.tools.ToolOutcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code search_knowledge} tool of an agent with knowledge bases: a journaled tool step like
 * any other (its query in the arguments, the chunks found with their ids and scores in the
 * result), so a replay sees exactly what the model saw. Each passage carries a citation,
 * {@code chunk:<id>}, which the model is asked to quote; the run's citations are read back from
 * its answer.
 */
public final class KnowledgeTool {
  public static final String KIND = "knowledge";
  static final int DEFAULT_TOP_K = 5;
  static final int MAX_TOP_K = 10;

  private KnowledgeTool() {}

  /** The tool as offered to an agent searching {@code bases} (their names, in the agent's order). */
  public static ToolDefinition definition(List<String> bases, ObjectMapper mapper) {
    ObjectNode parameters = mapper.createObjectNode();
    parameters.put("type", "object");
    ObjectNode properties = parameters.putObject("properties");
    properties.putObject("query").put("type", "string")
        .put("description", "what to look for, in words likely to appear in the passage");
    ObjectNode base = properties.putObject("knowledge_base").put("type", "string")
        .put("description", "search only this knowledge base (default: all of them)");
    ArrayNode names = base.putArray("enum");
    bases.forEach(names::add);
    properties.putObject("top_k").put("type", "integer").put("minimum", 1).put("maximum", MAX_TOP_K)
        .put("description", "how many passages (default " + DEFAULT_TOP_K + ")");
    parameters.putArray("required").add("query");
    parameters.put("additionalProperties", false);
    return new ToolDefinition(null, null, AgentService.KNOWLEDGE_TOOL, KIND, "Search the knowledge bases "
        + String.join(", ", bases) + " and return the passages that best match, each with its citation "
        + "(chunk:<id>). Answer from the passages, and cite each one you use as [chunk:<id>].",
        parameters, null, true, false);
  }

  /** The agent's tools with its {@code search_knowledge} tool last, when it lists knowledge bases. */
  public static Map<String, ToolDefinition> withKnowledge(Map<String, ToolDefinition> tools, AgentVersion agent,
      ObjectMapper mapper) {
    if (agent.knowledge().isEmpty()) {
      return tools;
    }
    Map<String, ToolDefinition> all = new LinkedHashMap<>(tools);
    all.put(AgentService.KNOWLEDGE_TOOL, definition(agent.knowledge(), mapper));
    return all;
  }

  /** The knowledge bases a call searches: the one it names, else all that the tool's definition lists. */
  static List<String> scope(ToolDefinition tool, JsonNode arguments) {
    JsonNode named = arguments.get("knowledge_base");
    if (named != null && named.isTextual()) {
      return List.of(named.asText());
    }
    List<String> all = new ArrayList<>();
    tool.parameters().at("/properties/knowledge_base/enum").forEach(n -> all.add(n.asText()));
    return all;
  }

  /** Runs {@code search_knowledge} calls, and hands every other call to {@code others}. */
  public static ToolInvoker invoker(KnowledgeService knowledge, ObjectMapper mapper, ToolInvoker others) {
    return (tool, arguments, context) -> KIND.equals(tool.kind())
        ? search(knowledge, mapper, tool, arguments, context)
        : others.execute(tool, arguments, context);
  }

  private static ToolOutcome search(KnowledgeService knowledge, ObjectMapper mapper, ToolDefinition tool,
      JsonNode arguments, ToolContext context) {
    long started = System.nanoTime();
    int topK = arguments.path("top_k").asInt(DEFAULT_TOP_K);
    List<KnowledgeService.Hit> hits = new ArrayList<>();
    List<String> bases = scope(tool, arguments);
    try {
      for (String name : bases) {
        hits.addAll(knowledge.searchByName(context.workspaceId(), name, arguments.path("query").asText(), topK));
      }
    } catch (DomainException e) {
      return ToolOutcome.error(e.getMessage(), null, elapsed(started));
    }
    hits.sort(Comparator.comparingDouble(KnowledgeService.Hit::score).reversed()
        .thenComparing(KnowledgeService.Hit::chunkId));
    ObjectNode result = mapper.createObjectNode();
    ArrayNode passages = result.putArray("results");
    for (KnowledgeService.Hit hit : hits.subList(0, Math.min(topK, hits.size()))) {
      ObjectNode passage = passages.addObject();
      passage.put("citation", "chunk:" + hit.chunkId());
      passage.put("knowledge_base", hit.knowledgeBase());
      passage.put("document", hit.documentName());
      passage.set("heading_path", mapper.valueToTree(hit.headingPath()));
      if (hit.page() != null) {
        passage.put("page", hit.page());
      }
      passage.put("score", Math.round(hit.score() * 10_000) / 10_000.0);
      passage.put("text", hit.text());
    }
    if (hits.isEmpty()) {
      result.put("note", "nothing in " + String.join(", ", bases) + " matches; try other words");
    }
    return ToolOutcome.success(Json.write(mapper, result), null, elapsed(started));
  }

  private static long elapsed(long started) {
    return Math.round((System.nanoTime() - started) / 1e6);
  }
}
