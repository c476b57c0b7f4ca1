package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.agents.AgentService;
import io.aryabhatta.agents.AgentVersion;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.callbacks.CallbackUrls;
import io.aryabhatta.db.Rows;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.json.Json;
import io.aryabhatta.runs.PromptTemplate;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.Streaming;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.workspaces.Caller;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A workspace's triggers: what they are (created, listed, paused, resumed, deleted), and the runs
 * they start, each marked with its trigger and run by the caller {@code trigger:<id>} of the
 * trigger's workspace. A webhook's secret leaves this class in clear only once, on creation, and
 * to the signature check.
 */
public final class TriggerService {
  private static final int SECRET_BYTES = 32;
  private static final int MAX_CONVERSATION_NAME = 200;
  /** What a schedule's templates can refer to: the tick's payload. */
  private static final Set<String> SCHEDULE_REFERENCES =
      Set.of("payload", "payload.scheduled_at", "payload.trigger_id");
  private static final String COLUMNS = """
      id, workspace_id, agent_id, kind, state, input_template, variables_template::text AS variables_template,
      conversation_name, conversation_id, callback_url, cron, time_zone, missed, next_fire_at, created_at, updated_at
      """;

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final ObjectMapper mapper;
  private final SecretCipher cipher;
  private final AgentService agents;
  private final RunService runs;
  private final Clock clock;
  private final CallbackUrls callbackUrls;
  private final SecureRandom random = new SecureRandom();

  public TriggerService(Jdbi jdbi, AuditLog audit, Ids ids, ObjectMapper mapper, SecretCipher cipher,
      AgentService agents, RunService runs, Clock clock, CallbackUrls callbackUrls) {
    this.callbackUrls = callbackUrls;
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.mapper = mapper;
    this.cipher = cipher;
    this.agents = agents;
    this.runs = runs;
    this.clock = clock;
  }

  /** Creates a trigger; a webhook's answer carries its signing secret, this once. */
  public TriggerCreated create(Caller caller, TriggerInput input) {
    Valid valid = validate(caller.workspaceId(), input);
    String id = ids.next();
    String secret = valid.kind() == TriggerKind.WEBHOOK ? newSecret() : null;
    SecretCipher.Sealed sealed = secret == null ? null : cipher.encrypt(secret, secretOwner(id));
    Instant next = valid.schedule() == null ? null : valid.schedule().nextAfter(clock.instant()).orElseThrow();
    Trigger created = jdbi.inTransaction(h -> {
      h.createUpdate("""
              INSERT INTO triggers (id, workspace_id, agent_id, kind, state, input_template, variables_template,
                                    conversation_name, callback_url, secret_nonce, secret_ciphertext, cron,
                                    time_zone, missed, next_fire_at)
              VALUES (:id, :w, :agent, :kind, :active, :input, cast(:variables AS jsonb), :conversation, :callback,
                      :nonce, :ciphertext, :cron, :zone, :missed, :next)""")
          .bind("id", id).bind("w", caller.workspaceId()).bind("agent", input.agentId())
          .bind("kind", valid.kind()).bind("active", TriggerState.ACTIVE).bind("input", input.inputTemplate())
          .bind("variables", Json.write(mapper, valid.variablesTemplate()))
          .bind("conversation", input.conversation())
          .bind("callback", valid.callbackUrl())
          .bind("nonce", sealed == null ? null : sealed.nonce())
          .bind("ciphertext", sealed == null ? null : sealed.ciphertext())
          .bind("cron", valid.schedule() == null ? null : input.cron().strip())
          .bind("zone", valid.schedule() == null ? null : valid.timeZone())
          .bind("missed", valid.missed())
          .bind("next", next)
          .execute();
      audit.record(h, caller, "trigger.created", "trigger", id,
          Map.of("kind", valid.kind().wire(), "agent_id", input.agentId()));
      return find(h, caller.workspaceId(), id).orElseThrow();
    });
    return new TriggerCreated(TriggerView.of(created), secret);
  }

  public TriggerView view(Caller caller, String id) {
    return TriggerView.of(trigger(caller, id));
  }

  /** One page of the workspace's triggers, oldest first. */
  public List<TriggerView> list(Caller caller, String afterId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + """
             FROM triggers WHERE workspace_id = :w AND deleted_at IS NULL
              AND (cast(:after AS text) IS NULL OR id > :after) ORDER BY id LIMIT :limit""")
        .bind("w", caller.workspaceId()).bind("after", afterId).bind("limit", limit)
        .map((rs, c) -> trigger(rs)).list())
        .stream().map(TriggerView::of).toList();
  }

  /**
   * Changes what the trigger's next runs are made of: the fields {@code patch} gives, checked as on
   * creation. A new {@code cron} or {@code time_zone} moves a schedule to its first tick after now;
   * a new conversation name starts a new conversation with the next run.
   */
  public TriggerView update(Caller caller, String id, TriggerPatch patch) {
    Trigger t = trigger(caller, id);
    TriggerInput merged = patch.over(t);
    Valid valid = validate(caller.workspaceId(), merged);
    // Null: the schedule keeps the next tick the ticker has it at.
    Instant next = valid.schedule() != null && patch.reschedules()
        ? valid.schedule().nextAfter(clock.instant()).orElseThrow() : null;
    boolean renamed = !Objects.equals(merged.conversation(), t.conversation());
    jdbi.useTransaction(h -> {
      int updated = h.createUpdate("""
              UPDATE triggers
                 SET input_template = :input, variables_template = cast(:variables AS jsonb),
                     conversation_name = :conversation,
                     conversation_id = CASE WHEN :renamed THEN NULL ELSE conversation_id END,
                     callback_url = :callback, cron = :cron, time_zone = :zone, missed = :missed,
                     next_fire_at = coalesce(cast(:next AS timestamptz), next_fire_at),
                     updated_at = now()
               WHERE id = :id AND deleted_at IS NULL""")
          .bind("input", merged.inputTemplate()).bind("variables", Json.write(mapper, valid.variablesTemplate()))
          .bind("conversation", merged.conversation()).bind("renamed", renamed)
          .bind("callback", valid.callbackUrl())
          .bind("cron", valid.schedule() == null ? null : merged.cron().strip())
          .bind("zone", valid.schedule() == null ? null : valid.timeZone())
          .bind("missed", valid.missed()).bind("next", next).bind("id", id)
          .execute();
      if (updated == 0) {
        throw DomainException.NotFound.of("trigger", id);
      }
      audit.record(h, caller, "trigger.updated", "trigger", id, Map.of("fields", List.copyOf(patch.fields().keySet())));
    });
    return view(caller, id);
  }

  /** Stops the trigger: deliveries are refused and ticks pass without a run until it is resumed. */
  public TriggerView pause(Caller caller, String id) {
    trigger(caller, id);
    jdbi.useTransaction(h -> {
      h.createUpdate("UPDATE triggers SET state = :paused, updated_at = now() WHERE id = :id")
          .bind("paused", TriggerState.PAUSED).bind("id", id).execute();
      audit.record(h, caller, "trigger.paused", "trigger", id, Map.of());
    });
    return view(caller, id);
  }

  /**
   * Starts a paused trigger again; a schedule fires from its next tick on (the ticks while paused
   * are dropped). An active trigger stays as it is.
   */
  public TriggerView resume(Caller caller, String id) {
    Trigger t = trigger(caller, id);
    Instant next = t.kind() == TriggerKind.SCHEDULE ? t.schedule().nextAfter(clock.instant()).orElse(null) : null;
    jdbi.useTransaction(h -> {
      h.createUpdate("""
              UPDATE triggers SET state = :active, next_fire_at = :next, updated_at = now()
               WHERE id = :id AND state = :paused""")
          .bind("active", TriggerState.ACTIVE).bind("paused", TriggerState.PAUSED).bind("next", next)
          .bind("id", id).execute();
      audit.record(h, caller, "trigger.resumed", "trigger", id, Map.of());
    });
    return view(caller, id);
  }

  /** Deletes the trigger: it starts no more runs; the runs it started keep its id. */
  public void delete(Caller caller, String id) {
    trigger(caller, id);
    jdbi.useTransaction(h -> {
      h.createUpdate("UPDATE triggers SET deleted_at = now(), updated_at = now() WHERE id = :id")
          .bind("id", id).execute();
      audit.record(h, caller, "trigger.deleted", "trigger", id, Map.of());
    });
  }

  private Trigger trigger(Caller caller, String id) {
    return jdbi.withHandle(h -> find(h, caller.workspaceId(), id))
        .orElseThrow(() -> DomainException.NotFound.of("trigger", id));
  }

  /** A live trigger of any workspace, for a delivery that names it. */
  Optional<Trigger> live(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM triggers WHERE id = :id AND deleted_at IS NULL")
        .bind("id", id).map((rs, c) -> trigger(rs)).findOne());
  }

  String signingSecret(Trigger t) {
    SecretCipher.Sealed sealed = jdbi.withHandle(h -> h.createQuery(
            "SELECT secret_nonce, secret_ciphertext FROM triggers WHERE id = :id")
        .bind("id", t.id())
        .map((rs, c) -> new SecretCipher.Sealed(rs.getBytes("secret_nonce"), rs.getBytes("secret_ciphertext")))
        .one());
    return cipher.decrypt(sealed, secretOwner(t.id()));
  }

  /** Active schedules whose next tick has come, of every workspace. */
  List<Trigger> dueSchedules(int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + """
             FROM triggers
            WHERE kind = 'schedule' AND state = 'active' AND deleted_at IS NULL AND next_fire_at <= now()
            ORDER BY next_fire_at LIMIT :limit""")
        .bind("limit", limit).map((rs, c) -> trigger(rs)).list());
  }

  /** Moves a schedule from {@code tick} to {@code next} without a run, unless another node moved it first. */
  void moveOn(Trigger t, Instant tick, Instant next) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE triggers SET next_fire_at = :next WHERE id = :id AND next_fire_at = :tick""")
        .bind("next", next).bind("id", t.id()).bind("tick", tick).execute());
  }

  /**
   * Starts a run of the trigger's agent with {@code input} and {@code variables}, marked as the
   * trigger's, with {@code alongside} in its creation transaction: in a new conversation, or in
   * the trigger's named one (found or created; a run there while another is active is refused).
   */
  Run start(Trigger t, String input, Map<String, String> variables, RunService.Alongside alongside) {
    Caller caller = callerOf(t);
    RunService.Alongside marked = (w, runId) -> {
      w.statement("UPDATE runs SET trigger_id = :t WHERE id = :r").bind("t", t.id()).bind("r", runId).execute();
      alongside.write(w, runId);
    };
    if (t.conversation() == null) {
      return runs.startRunOfAgent(caller, t.agentId(), null, input, variables, metadata(t), null,
          Streaming.TEXT_AS_WRITTEN, t.callbackUrl(), marked);
    }
    return runs.startRun(caller, namedConversation(t, caller, variables), input, Streaming.TEXT_AS_WRITTEN,
        t.callbackUrl(), marked);
  }

  /** What a schedule's templates are filled from at a tick. */
  JsonNode tickPayload(Trigger t, Instant tick) {
    return mapper.createObjectNode().put("scheduled_at", tick.toString()).put("trigger_id", t.id());
  }

  /** The caller a trigger's runs are started by; its audit rows say {@code trigger:<id>}. */
  static Caller callerOf(Trigger t) {
    return new Caller("trigger:" + t.id(), t.workspaceId(), "trigger:" + t.id(), false);
  }

  /**
   * The trigger's named conversation, created by its first run with that run's variables. Two first
   * runs at once each create one and the first to record its own wins; the other's stays empty.
   */
  private String namedConversation(Trigger t, Caller caller, Map<String, String> variables) {
    if (t.conversationId() != null) {
      return t.conversationId();
    }
    String created = runs.createConversation(caller, t.agentId(), variables, metadata(t)).id();
    return jdbi.withHandle(h -> {
      h.createUpdate("UPDATE triggers SET conversation_id = :c WHERE id = :id AND conversation_id IS NULL")
          .bind("c", created).bind("id", t.id()).execute();
      return h.createQuery("SELECT conversation_id FROM triggers WHERE id = :id").bind("id", t.id())
          .mapTo(String.class).one();
    });
  }

  private JsonNode metadata(Trigger t) {
    var metadata = mapper.createObjectNode().put("trigger_id", t.id());
    if (t.conversation() != null) {
      metadata.put("conversation", t.conversation());
    }
    return metadata;
  }

  private record Valid(TriggerKind kind, JsonNode variablesTemplate, String callbackUrl, CronSchedule schedule,
      String timeZone, MissedTicks missed) {}

  private Valid validate(String workspaceId, TriggerInput input) {
    List<FieldError> errors = new ArrayList<>();
    AgentVersion agent = null;
    if (input.agentId() == null || input.agentId().isBlank()) {
      errors.add(new FieldError("agent_id", "is required"));
    } else {
      try {
        agent = agents.version(workspaceId, input.agentId(), null);
      } catch (DomainException.NotFound e) {
        errors.add(new FieldError("agent_id", "no agent with this id in the workspace"));
      }
    }
    TriggerKind kind = input.kind() == null ? null : TriggerKind.of(input.kind()).orElse(null);
    if (kind == null) {
      errors.add(new FieldError("kind", "must be \"webhook\" or \"schedule\""));
    }
    if (input.inputTemplate() == null || input.inputTemplate().isBlank()) {
      errors.add(new FieldError("input_template", "is required: the run's input, e.g. \"New order {{payload.id}}\""));
    } else {
      checkReferences("input_template", input.inputTemplate(), kind, errors);
    }
    JsonNode variables = input.variablesTemplate() == null ? mapper.createObjectNode() : input.variablesTemplate();
    Map<String, String> variableNames = new HashMap<>();
    if (!variables.isObject()) {
      errors.add(new FieldError("variables_template", "must be an object of variable names to template strings"));
    } else {
      variables.fields().forEachRemaining(f -> {
        variableNames.put(f.getKey(), "x");
        if (!f.getValue().isTextual()) {
          errors.add(new FieldError("variables_template." + f.getKey(), "must be a template string"));
        } else {
          checkReferences("variables_template." + f.getKey(), f.getValue().textValue(), kind, errors);
        }
      });
      if (agent != null) {
        PromptTemplate.missing(agent.systemPrompt(), variableNames).forEach(name -> errors.add(new FieldError(
            "variables_template." + name, "the agent's system prompt needs this variable")));
      }
    }
    if (input.conversation() != null
        && (input.conversation().isBlank() || input.conversation().length() > MAX_CONVERSATION_NAME)) {
      errors.add(new FieldError("conversation", "must be a name of 1 to " + MAX_CONVERSATION_NAME
          + " characters, or absent for a new conversation per run"));
    }
    String callbackUrl = null;
    try {
      callbackUrl = callbackUrls.checked(input.callbackUrl());
    } catch (DomainException.ValidationFailed e) {
      errors.addAll(e.errors());
    }
    CronSchedule schedule = null;
    String timeZone = input.timeZone() == null ? "UTC" : input.timeZone();
    MissedTicks missed = null;
    if (kind == TriggerKind.SCHEDULE) {
      missed = input.missed() == null ? MissedTicks.SKIP : MissedTicks.of(input.missed()).orElse(null);
      if (missed == null) {
        errors.add(new FieldError("missed", "must be \"run_once\" or \"skip\""));
      }
      try {
        schedule = CronSchedule.of(input.cron(), timeZone);
      } catch (DomainException.ValidationFailed e) {
        errors.addAll(e.errors());
      }
    } else if (kind == TriggerKind.WEBHOOK) {
      for (String[] field : new String[][] {{"cron", input.cron()}, {"time_zone", input.timeZone()},
          {"missed", input.missed()}}) {
        if (field[1] != null) {
          errors.add(new FieldError(field[0], "is only for a schedule"));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    return new Valid(kind, variables, callbackUrl, schedule, timeZone, missed);
  }

  private static void checkReferences(String field, String template, TriggerKind kind, List<FieldError> errors) {
    for (String invalid : PayloadTemplate.invalidReferences(template)) {
      errors.add(new FieldError(field, "{{" + invalid + "}} is not a payload field; write {{payload.some.field}}"));
    }
    if (kind == TriggerKind.SCHEDULE) {
      PayloadTemplate.references(template).stream()
          .filter(r -> !SCHEDULE_REFERENCES.contains(r) && PayloadTemplate.invalidReferences("{{" + r + "}}").isEmpty())
          .forEach(r -> errors.add(new FieldError(field,
              "{{" + r + "}}: a schedule's payload has only scheduled_at and trigger_id")));
    }
  }

  private String newSecret() {
    byte[] bytes = new byte[SECRET_BYTES];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String secretOwner(String triggerId) {
    return "trigger:" + triggerId;
  }

  private Optional<Trigger> find(Handle h, String workspaceId, String id) {
    return h.createQuery("SELECT " + COLUMNS + """
             FROM triggers WHERE id = :id AND workspace_id = :w AND deleted_at IS NULL""")
        .bind("id", id).bind("w", workspaceId).map((rs, c) -> trigger(rs)).findOne();
  }

  private Trigger trigger(ResultSet rs) throws SQLException {
    String missed = rs.getString("missed");
    return new Trigger(rs.getString("id"), rs.getString("workspace_id"), rs.getString("agent_id"),
        TriggerKind.of(rs.getString("kind")).orElseThrow(), TriggerState.of(rs.getString("state")).orElseThrow(),
        rs.getString("input_template"), Json.read(mapper, rs.getString("variables_template")),
        rs.getString("conversation_name"), rs.getString("conversation_id"), rs.getString("callback_url"),
        rs.getString("cron"),
        rs.getString("time_zone"), missed == null ? null : MissedTicks.of(missed).orElseThrow(),
        Rows.instant(rs, "next_fire_at"), Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
  }
}
