package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/**
 * A trigger as the API shows it (never its secret).
 *
 * @param callbackUrl the {@code callback_url} of each run it starts; null: none
 * @param hookPath where a webhook's deliveries go; null for a schedule
 * @param nextFireTimes a schedule's next five ticks (none while paused); null for a webhook
 */
public record TriggerView(String id, String agentId, TriggerKind kind, TriggerState state, String inputTemplate,
    JsonNode variablesTemplate, String conversation, String conversationId, String callbackUrl, String hookPath,
    String cron, String timeZone, MissedTicks missed, List<Instant> nextFireTimes, Instant createdAt, Instant updatedAt) {

  static final int NEXT_FIRE_TIMES = 5;

  static TriggerView of(Trigger t) {
    boolean webhook = t.kind() == TriggerKind.WEBHOOK;
    List<Instant> next = webhook ? null
        : t.state() == TriggerState.PAUSED ? List.of() : t.schedule().ticksFrom(t.nextFireAt(), NEXT_FIRE_TIMES);
    return new TriggerView(t.id(), t.agentId(), t.kind(), t.state(), t.inputTemplate(), t.variablesTemplate(),
        t.conversation(), t.conversationId(), t.callbackUrl(), webhook ? "/hooks/" + t.id() : null, t.cron(),
        t.timeZone(), t.missed(), next, t.createdAt(), t.updatedAt());
  }
}
