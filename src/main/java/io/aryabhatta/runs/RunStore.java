package io.aryabhatta.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.db.WriteBatch;
import io.aryabhatta.db.Rows;
import io.aryabhatta.json.Json;
import io.aryabhatta.model.ChatMessage;
import io.aryabhatta.model.ToolCall;
import io.aryabhatta.model.Usage;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import io.aryabhatta.tools.ClientTools;
import io.aryabhatta.tools.ToolDefinition;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Reads runs, their journal, events and conversations. */
public final class RunStore {
  private final Jdbi jdbi;
  private final ObjectMapper mapper;

  public RunStore(Jdbi jdbi, ObjectMapper mapper) {
    this.jdbi = jdbi;
    this.mapper = mapper;
  }

  public Optional<Run> run(String workspaceId, String runId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM runs WHERE id = :id AND workspace_id = :w")
        .bind("id", runId).bind("w", workspaceId)
        .map((rs, c) -> run(rs)).findOne());
  }

  /** The id of the run's last event (0: none yet). */
  public long lastEventId(String runId) {
    return jdbi.withHandle(h -> h.createQuery("SELECT last_event_id FROM runs WHERE id = :id").bind("id", runId)
        .mapTo(Long.class).one());
  }

  /** The run's row without workspace check, for the engine itself. */
  public Run run(Handle h, String runId) {
    return h.createQuery("SELECT * FROM runs WHERE id = :id").bind("id", runId).map((rs, c) -> run(rs)).one();
  }

  /**
   * The run's row as the writes queued before it on {@code h} leave it, read in the same round
   * trip as they are sent ({@link WriteBatch.Statement#readWithWrites}).
   */
  public WriteBatch.Row<Run> runWithWrites(WriteBatch w, String runId) {
    return w.statement("SELECT * FROM runs WHERE id = :id").bind("id", runId)
        .readWithWrites(this::run);
  }

  public List<Run> runsOfConversation(String workspaceId, String conversationId, String after, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT * FROM runs WHERE workspace_id = :w AND conversation_id = :c
              AND (cast(:after AS text) IS NULL OR id > :after) ORDER BY id LIMIT :limit""")
        .bind("w", workspaceId).bind("c", conversationId).bind("after", after).bind("limit", limit)
        .map((rs, c) -> run(rs)).list());
  }

  /**
   * What the engine needs to know about a run, read inside its transaction.
   *
   * @param traceContext the W3C traceparent of the run's trace, journaled when it began; null if
   *     tracing was off then
   * @param endsInto what the run's end must also do (answer a parent, queue a callback)
   */
  public record RunState(String id, String workspaceId, String conversationId, String agentId, int agentVersion,
      String systemPrompt, boolean stream, RunStatus status, boolean cancelRequested, JsonNode agentOverrides,
      Usage usage, List<ToolDefinition> clientTools, String traceContext, String memoryKey, EndsInto endsInto) {}

  /**
   * What a run's end does beyond the run itself, fixed when the run is created: a child's end
   * answers its parent's call, and a run with a callback URL queues its delivery. Known to the
   * engine from the row it read, so that the transaction ending a run reads neither.
   */
  public record EndsInto(boolean parent, boolean callback) {
    public static final EndsInto NOTHING = new EndsInto(false, false);
  }

  public RunState state(Handle h, String runId) {
    return h.createQuery("SELECT * FROM runs WHERE id = :id").bind("id", runId)
        .map((rs, c) -> new RunState(rs.getString("id"), rs.getString("workspace_id"), rs.getString("conversation_id"),
            rs.getString("agent_id"), rs.getInt("agent_version"), rs.getString("system_prompt"),
            rs.getBoolean("stream"), RunStatus.of(rs.getString("status")), rs.getBoolean("cancel_requested"),
            json(rs.getString("agent_overrides")),
            new Usage(rs.getInt("prompt_tokens"), rs.getInt("completion_tokens"), rs.getInt("total_tokens")),
            ClientTools.fromJson(json(rs.getString("client_tools"))), rs.getString("trace_context"),
            rs.getString("memory_key"),
            new EndsInto(rs.getString("parent_run_id") != null, rs.getString("callback_url") != null)))
        .one();
  }

  public List<Step> steps(String runId) {
    return jdbi.withHandle(h -> steps(h, runId));
  }

  public List<Step> steps(Handle h, String runId) {
    return h.createQuery("SELECT * FROM run_steps WHERE run_id = :r ORDER BY idx")
        .bind("r", runId).map((rs, c) -> step(rs)).list();
  }

  /** The journal's steps as the loop tracks them ({@link Step#outline}), without reading any recorded JSON. */
  public List<Step> stepOutlines(Handle h, String runId) {
    return h.createQuery("""
            SELECT idx, type, status, tool_call_id, name, arguments, idempotency_key, ended_at,
                   executed_as::text AS executed_as
            FROM run_steps WHERE run_id = :r ORDER BY idx""")
        .bind("r", runId)
        .map((rs, c) -> Step.outline(runId, rs.getInt("idx"), rs.getString("type"), StepStatus.of(rs.getString("status")),
                rs.getString("tool_call_id"), rs.getString("name"), rs.getString("arguments"),
                rs.getString("idempotency_key"))
            .endedAt(Rows.instant(rs, "ended_at"))
            .withExecutedAs(json(rs.getString("executed_as"))))
        .list();
  }

  public List<RunEvent> events(String runId, long after, int limit) {
    // Events are stored a write's worth to a row (see the view run_events): the rows read are the
    // one holding the event after :after and those after it, found by the primary key.
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT b.first_id + e.ord - 1 AS id, b.types[e.ord] AS type, e.data::text AS data, b.created_at
            FROM run_event_batches b, jsonb_array_elements(b.data) WITH ORDINALITY AS e(data, ord)
            WHERE b.run_id = :r
              AND b.first_id >= coalesce((SELECT max(first_id) FROM run_event_batches
                                          WHERE run_id = :r AND first_id <= :after + 1), 0)
              AND b.first_id + e.ord - 1 > :after
            ORDER BY b.first_id, e.ord LIMIT :limit""")
        // No event has the largest id there is: clamped, after + 1 does not overflow.
        .bind("r", runId).bind("after", Math.min(after, Long.MAX_VALUE - 1)).bind("limit", limit)
        .map((rs, c) -> new RunEvent(rs.getLong("id"), rs.getString("type"), json(rs.getString("data")),
            Rows.instant(rs, "created_at")))
        .list());
  }

  public Optional<Conversation> conversation(String workspaceId, String id) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, agent_id, variables::text AS variables, metadata::text AS metadata, memory_key, created_at
            FROM conversations WHERE id = :id AND workspace_id = :w""")
        .bind("id", id).bind("w", workspaceId)
        .map((rs, c) -> new Conversation(rs.getString("id"), rs.getString("agent_id"), json(rs.getString("variables")),
            json(rs.getString("metadata")), rs.getString("memory_key"), Rows.instant(rs, "created_at")))
        .findOne());
  }

  /**
   * The workspace's conversations, newest first (ids are time-ordered), optionally of one agent;
   * {@code before} is the id of the last conversation of the previous page.
   */
  public List<Conversation> conversations(String workspaceId, String agentId, String before, int limit) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT id, agent_id, variables::text AS variables, metadata::text AS metadata, memory_key, created_at
            FROM conversations
            WHERE workspace_id = :w
              AND (cast(:agent AS text) IS NULL OR agent_id = :agent)
              AND (cast(:before AS text) IS NULL OR id < :before)
            ORDER BY id DESC LIMIT :limit""")
        .bind("w", workspaceId).bind("agent", agentId).bind("before", before).bind("limit", limit)
        .map((rs, c) -> new Conversation(rs.getString("id"), rs.getString("agent_id"), json(rs.getString("variables")),
            json(rs.getString("metadata")), rs.getString("memory_key"), Rows.instant(rs, "created_at")))
        .list());
  }

  public List<Message> messages(String conversationId, int afterSeq, int limit) {
    return jdbi.withHandle(h -> messages(h, conversationId, afterSeq, limit));
  }

  public List<Message> messages(Handle h, String conversationId, int afterSeq, int limit) {
    return h.createQuery("""
            SELECT seq, run_id, role, content, tool_calls::text AS tool_calls, tool_call_id, name, created_at
            FROM messages WHERE conversation_id = :c AND seq > :after ORDER BY seq LIMIT :limit""")
        .bind("c", conversationId).bind("after", afterSeq).bind("limit", limit)
        .map((rs, c) -> new Message(rs.getInt("seq"), rs.getString("run_id"), rs.getString("role"),
            rs.getString("content"), json(rs.getString("tool_calls")), rs.getString("tool_call_id"),
            rs.getString("name"), Rows.instant(rs, "created_at")))
        .list();
  }

  /** The messages of one run of the conversation, in order. */
  public List<Message> messagesOfRun(Handle h, String conversationId, String runId) {
    return h.createQuery("""
            SELECT seq, run_id, role, content, tool_calls::text AS tool_calls, tool_call_id, name, created_at
            FROM messages WHERE conversation_id = :c AND run_id = :r ORDER BY seq""")
        .bind("c", conversationId).bind("r", runId)
        .map((rs, c) -> new Message(rs.getInt("seq"), rs.getString("run_id"), rs.getString("role"),
            rs.getString("content"), json(rs.getString("tool_calls")), rs.getString("tool_call_id"),
            rs.getString("name"), Rows.instant(rs, "created_at")))
        .list();
  }

  /** The conversation in the model's wire shape (without the system prompt). */
  public List<ChatMessage> history(Handle h, String conversationId) {
   return asChat(messages(h, conversationId, 0, Integer.MAX_VALUE));
  }

  /** Stored messages in the model's wire shape. */
  public List<ChatMessage> asChat(List<Message> messages) {
    List<ChatMessage> history = new ArrayList<>();
    for (Message m : messages) {
      history.add(switch (m.role()) {
        case "user" -> ChatMessage.user(m.content());
        case "assistant" -> ChatMessage.assistant(m.content(), chatToolCalls(m.toolCalls()));
        default -> ChatMessage.tool(m.toolCallId(), m.name(), m.content());
      });
    }
    return history;
  }

  /** The overrides of the agent's configuration a run was started with (a fork), or null. */
  public JsonNode agentOverrides(Handle h, String runId) {
    return json(h.createQuery("SELECT agent_overrides::text FROM runs WHERE id = :id").bind("id", runId)
        .mapTo(String.class).one());
  }

  /** Tool calls as stored in a message, in the model's wire shape. */
  public List<ToolCall> chatToolCalls(JsonNode calls) {
    List<ToolCall> list = new ArrayList<>();
    if (calls != null) {
      for (JsonNode c : calls) {
        list.add(new ToolCall(c.path("id").asText(), c.path("name").asText(), c.path("arguments").asText()));
      }
    }
    return list;
  }

  private Run run(ResultSet rs) throws SQLException {
    return new Run(
        rs.getString("id"),
        rs.getString("conversation_id"),
        rs.getString("agent_id"),
        rs.getInt("agent_version"),
        RunStatus.of(rs.getString("status")),
        rs.getString("output"),
        json(rs.getString("error")),
        new Usage(rs.getInt("prompt_tokens"), rs.getInt("completion_tokens"), rs.getInt("total_tokens")),
        rs.getInt("steps_count"),
        json(rs.getString("required_action")),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "started_at"),
        Rows.instant(rs, "ended_at"),
        rs.getString("callback_url"),
        rs.getString("trigger_id"),
        rs.getString("parent_run_id"),
        rs.getObject("parent_step") == null ? null : rs.getInt("parent_step"),
        rs.getInt("depth"));
  }

  /** The runs that sub-agent calls of {@code parentRunId} started, in the order of their calls. */
  public List<Run> children(String workspaceId, String parentRunId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT * FROM runs WHERE workspace_id = :w AND parent_run_id = :p ORDER BY parent_step""")
        .bind("w", workspaceId).bind("p", parentRunId).map((rs, c) -> run(rs)).list());
  }

  private Step step(ResultSet rs) throws SQLException {
    return new Step(
        rs.getString("run_id"),
        rs.getInt("idx"),
        rs.getString("type"),
        StepStatus.of(rs.getString("status")),
        Rows.instant(rs, "started_at"),
        Rows.instant(rs, "ended_at"),
        (Long) rs.getObject("duration_ms"),
        json(rs.getString("request")),
        json(rs.getString("response")),
        json(rs.getString("usage")),
        json(rs.getString("attempts")),
        rs.getString("tool_call_id"),
        rs.getString("name"),
        rs.getString("arguments"),
        rs.getString("result"),
        rs.getString("error"),
        rs.getString("idempotency_key"),
        rs.getString("decision_reason"),
        json(rs.getString("executed_as")),
        rs.getString("copied_from_run_id"));
  }

  JsonNode json(String text) {
    return text == null ? null : Json.read(mapper, text);
  }
}
