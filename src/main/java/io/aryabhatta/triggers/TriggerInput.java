package io.aryabhatta.triggers;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code POST /api/triggers}, as sent. */
public record TriggerInput(String agentId, String kind, String inputTemplate, JsonNode variablesTemplate,
    String conversation, String callbackUrl, String cron, String timeZone, String missed) {}
