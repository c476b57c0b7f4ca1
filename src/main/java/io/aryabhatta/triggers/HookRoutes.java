package io.aryabhatta.triggers;

import io.aryabhatta.http.ApiException;
import io.aryabhatta.http.JsonBody;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /hooks/{trigger_id}}: a webhook delivery, authenticated by its signature rather
 * than an API key. Answers {@code 202} with the run as soon as it is created.
 */
public final class HookRoutes {
  public static final String DELIVERY_HEADER = "X-Aryabhatta-Delivery";
  /** GitHub's delivery id, so that GitHub's redeliveries are deduplicated without a header of ours. */
  public static final String GITHUB_DELIVERY_HEADER = "X-GitHub-Delivery";

  private final WebhookReceiver receiver;
  private final JsonBody body;

  public HookRoutes(WebhookReceiver receiver, JsonBody body) {
    this.receiver = receiver;
    this.body = body;
  }

  public void register(RoutesConfig routes) {
    routes.post("/hooks/{id}", this::deliver);
  }

  private void deliver(Context ctx) {
    String deliveryId = ctx.header(DELIVERY_HEADER) != null ? ctx.header(DELIVERY_HEADER)
        : ctx.header(GITHUB_DELIVERY_HEADER);
    WebhookReceiver.Delivery delivery = new WebhookReceiver.Delivery(ctx.header(WebhookSignature.TIMESTAMP_HEADER),
        ctx.header(WebhookSignature.SIGNATURE_HEADER), deliveryId, body.bytes(ctx));
    WebhookReceiver.Accepted accepted;
    try {
      accepted = receiver.receive(ctx.pathParam("id"), delivery);
    } catch (WebhookReceiver.SignatureRefused e) {
      throw new ApiException.Unauthorized(e.verdict().reason());
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("run_id", accepted.run().id());
    answer.put("conversation_id", accepted.run().conversationId());
    answer.put("trigger_id", accepted.run().triggerId());
    answer.put("status", accepted.run().status());
    answer.put("duplicate", accepted.duplicate());
    ctx.status(202).json(answer);
  }
}
