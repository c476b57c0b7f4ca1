package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A trigger as stored, without its secret.
 *
 * @param conversation the name of the one conversation its runs go into; null: a new one per run
 * @param conversationId that conversation, once its first run created it
 * @param callbackUrl given to each run it starts as its {@code callback_url}; null: none
 * @param nextFireAt a schedule's next tick; null for a webhook
 */
public record Trigger(String id, String workspaceId, String agentId, TriggerKind kind, TriggerState state,
    String inputTemplate, JsonNode variablesTemplate, String conversation, String conversationId, String callbackUrl,
    String cron, String timeZone, MissedTicks missed, Instant nextFireAt, Instant createdAt, Instant updatedAt) {

  /** The variables' templates, by variable name. */
  public Map<String, String> variableTemplates() {
    Map<String, String> templates = new LinkedHashMap<>();
    variablesTemplate.fields().forEachRemaining(f -> templates.put(f.getKey(), f.getValue().asText()));
    return templates;
  }

  public CronSchedule schedule() {
    return CronSchedule.of(cron, timeZone);
  }
}
