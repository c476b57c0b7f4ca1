package io.aryabhatta.usage;

import io.aryabhatta.errors.DomainException;
import io.aryabhatta.config.Config.ModelPrice;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;

/**
 * Token usage from the journal (every model call's reported usage), grouped by run, conversation,
 * agent, model or UTC day, with a cost where a price is known for the model.
 */
public final class UsageReport {
  public static final Set<String> GROUPS = Set.of("run", "conversation", "agent", "model", "day");

  private final Jdbi jdbi;
  private final Map<String, ModelPrice> prices;

  public UsageReport(Jdbi jdbi, Map<String, ModelPrice> prices) {
    this.jdbi = jdbi;
    this.prices = prices;
  }

  public record ModelUsage(String model, long promptTokens, long completionTokens, long totalTokens, Double cost) {}

  public record Row(String key, long runs, long modelCalls, long promptTokens, long completionTokens,
      long totalTokens, Double cost, List<ModelUsage> models) {}

  public record Filter(String groupBy, String agentId, String conversationId, Instant since, Instant until) {}

  public List<Row> report(String workspaceId, Filter filter) {
    String key = switch (filter.groupBy()) {
      case "run" -> "r.id";
      case "conversation" -> "r.conversation_id";
      case "agent" -> "r.agent_id";
      case "model" -> "coalesce(s.request->>'model', '')";
      case "day" -> "to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
      default -> throw new DomainException.ValidationFailed("group_by", "must be one of " + GROUPS);
    };
    record Part(String key, String model, long runs, long calls, long prompt, long completion, long total) {}
    List<Part> parts = jdbi.withHandle(h -> h.createQuery("""
            SELECT %s AS key, coalesce(s.request->>'model', '') AS model,
                   count(DISTINCT r.id) AS runs, count(*) AS calls,
                   coalesce(sum((s.usage->>'prompt_tokens')::bigint), 0) AS prompt,
                   coalesce(sum((s.usage->>'completion_tokens')::bigint), 0) AS completion,
                   coalesce(sum((s.usage->>'total_tokens')::bigint), 0) AS total
            FROM run_steps s JOIN runs r ON r.id = s.run_id
            WHERE r.workspace_id = :w AND s.type = 'llm_call' AND s.status = 'completed'
              AND s.copied_from_run_id IS NULL
              AND (cast(:agent AS text) IS NULL OR r.agent_id = :agent)
              AND (cast(:conversation AS text) IS NULL OR r.conversation_id = :conversation)
              AND (cast(:since AS timestamptz) IS NULL OR s.started_at >= :since)
              AND (cast(:until AS timestamptz) IS NULL OR s.started_at < :until)
            GROUP BY 1, 2
            ORDER BY 1, 2""".formatted(key))
        .bind("w", workspaceId).bind("agent", filter.agentId()).bind("conversation", filter.conversationId())
        .bind("since", filter.since()).bind("until", filter.until())
        .map((rs, c) -> new Part(rs.getString("key"), rs.getString("model"), rs.getLong("runs"),
            rs.getLong("calls"), rs.getLong("prompt"), rs.getLong("completion"), rs.getLong("total")))
        .list());
    Map<String, List<Part>> byKey = new LinkedHashMap<>();
    parts.forEach(p -> byKey.computeIfAbsent(p.key(), k -> new ArrayList<>()).add(p));
    List<Row> rows = new ArrayList<>();
    byKey.forEach((k, list) -> {
      List<ModelUsage> models = list.stream()
          .map(p -> new ModelUsage(p.model(), p.prompt(), p.completion(), p.total(), cost(p.model(), p.prompt(),
              p.completion())))
          .toList();
      boolean priced = models.stream().allMatch(m -> m.cost() != null);
      rows.add(new Row(k,
          list.stream().mapToLong(Part::runs).max().orElse(0),
          list.stream().mapToLong(Part::calls).sum(),
          list.stream().mapToLong(Part::prompt).sum(),
          list.stream().mapToLong(Part::completion).sum(),
          list.stream().mapToLong(Part::total).sum(),
          priced ? models.stream().mapToDouble(ModelUsage::cost).sum() : null,
          models));
    });
    return rows;
  }

  private Double cost(String model, long prompt, long completion) {
    ModelPrice price = prices.get(model);
    return price == null ? null
        : (prompt * price.promptPerMillion() + completion * price.completionPerMillion()) / 1_000_000.0;
  }
}
