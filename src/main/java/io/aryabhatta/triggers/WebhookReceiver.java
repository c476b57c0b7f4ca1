package io.aryabhatta.triggers;

import java.io.IOException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.db.Constraints;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import java.time.Clock;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Turns a signed delivery to {@code /hooks/{id}} into a run: the signature is checked before
 * anything is read from the body, then a delivery already seen answers with its run, and a new
 * one starts a run with its delivery row in the run's creation transaction.
 */
public final class WebhookReceiver {
  static final int MAX_DELIVERY_ID = 200;

  private final TriggerService triggers;
  private final RunService runs;
  private final Jdbi jdbi;
  private final ObjectMapper mapper;
  private final Clock clock;

  public WebhookReceiver(TriggerService triggers, RunService runs, Jdbi jdbi, ObjectMapper mapper, Clock clock) {
    this.triggers = triggers;
    this.runs = runs;
    this.jdbi = jdbi;
    this.mapper = mapper;
    this.clock = clock;
  }

  /** A delivery as received; {@code deliveryId} null: not deduplicated. */
  public record Delivery(String timestamp, String signature, String deliveryId, byte[] body) {}

  /** The run a delivery started, or had started when it was first received. */
  public record Accepted(Run run, boolean duplicate) {}

  /** The delivery's signature or timestamp is not acceptable; nothing was started. */
  public static final class SignatureRefused extends RuntimeException {
    private final WebhookSignature.Verdict verdict;

    SignatureRefused(WebhookSignature.Verdict verdict) {
      super(verdict.reason(), null, false, false);
      this.verdict = verdict;
    }

    public WebhookSignature.Verdict verdict() {
      return verdict;
    }
  }

  public Accepted receive(String triggerId, Delivery delivery) {
    Trigger trigger = triggers.live(triggerId).filter(t -> t.kind() == TriggerKind.WEBHOOK)
        .orElseThrow(() -> DomainException.NotFound.of("webhook trigger", triggerId));
    WebhookSignature.Verdict verdict = WebhookSignature.verify(triggers.signingSecret(trigger), delivery.timestamp(),
        delivery.signature(), delivery.body(), clock.instant());
    if (verdict != WebhookSignature.Verdict.VALID) {
      throw new SignatureRefused(verdict);
    }
    String deliveryId = deliveryId(delivery);
    if (deliveryId != null) {
      Optional<Accepted> seen = seen(trigger, deliveryId);
      if (seen.isPresent()) {
        return seen.get();
      }
    }
    if (trigger.state() == TriggerState.PAUSED) {
      throw new DomainException.Conflict("the trigger is paused; resume it with POST /api/triggers/"
          + trigger.id() + "/resume");
    }
    PayloadTemplate.Run filled = PayloadTemplate.fillRun(trigger.inputTemplate(), trigger.variableTemplates(),
        payload(delivery.body()));
    if (!filled.missing().isEmpty()) {
      throw new DomainException.ValidationFailed(filled.missing());
    }
    RunService.Alongside recordDelivery = deliveryId == null ? RunService.Alongside.NOTHING : (w, runId) ->
        w.statement("INSERT INTO trigger_deliveries (trigger_id, delivery_id, run_id) VALUES (:t, :d, :r)")
            .bind("t", trigger.id()).bind("d", deliveryId).bind("r", runId).execute();
    try {
      return new Accepted(triggers.start(trigger, filled.input(), filled.variables(), recordDelivery), false);
    } catch (RuntimeException e) {
      // The same delivery, sent again while the first was being started, committed its run first.
      if (deliveryId != null && Constraints.isUniqueViolation(e)) {
        return seen(trigger, deliveryId).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  private static String deliveryId(Delivery delivery) {
    String id = delivery.deliveryId() == null ? null : delivery.deliveryId().strip();
    if (id == null || id.isEmpty()) {
      return null;
    }
    if (id.length() > MAX_DELIVERY_ID) {
      throw new DomainException.ValidationFailed("delivery_id",
          "the delivery id header may have at most " + MAX_DELIVERY_ID + " characters");
    }
    return id;
  }

  private Optional<Accepted> seen(Trigger trigger, String deliveryId) {
    return jdbi.withHandle(h -> h.createQuery(
            "SELECT run_id FROM trigger_deliveries WHERE trigger_id = :t AND delivery_id = :d")
        .bind("t", trigger.id()).bind("d", deliveryId).mapTo(String.class).findOne())
        .map(runId -> new Accepted(runs.run(TriggerService.callerOf(trigger), runId), true));
  }

  private JsonNode payload(byte[] body) {
    if (body.length == 0) {
      return mapper.createObjectNode();
    }
    try {
      return mapper.readTree(body);
    } catch (IOException e) {
      throw new DomainException.InvalidRequest("the delivery's body must be JSON");
    }
  }
}
