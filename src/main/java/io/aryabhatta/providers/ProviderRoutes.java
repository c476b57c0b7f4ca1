package io.aryabhatta.providers;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.databind.JsonNode;
import io.aryabhatta.http.ApiException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.Page;
import io.aryabhatta.http.PageRequest;
import io.aryabhatta.model.ModelCallException;
import io.aryabhatta.model.ModelEndpoint;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /api/providers}: OpenAI-compatible endpoints, with the read-only built-in {@code hf}. */
public final class ProviderRoutes {
  private static final Logger log = LoggerFactory.getLogger(ProviderRoutes.class);

  private final ProviderService providers;
  private final ModelLister models;
  private final JsonBody body;
  private final Idempotency idempotency;

  public ProviderRoutes(ProviderService providers, ModelLister models, JsonBody body, Idempotency idempotency) {
    this.providers = providers;
    this.models = models;
    this.body = body;
    this.idempotency = idempotency;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/providers", idempotency.wrap(this::create));
    routes.get("/api/providers", this::list);
    routes.get("/api/providers/{name}", this::get);
    routes.patch("/api/providers/{name}", this::update);
    routes.delete("/api/providers/{name}", this::delete);
    routes.get("/api/providers/{name}/models", this::models);
  }

  private void create(Context ctx) {
    ProviderInput input = body.read(ctx, ProviderInput.class);
    ctx.status(201).json(providers.create(Auth.caller(ctx), input));
  }

  private void list(Context ctx) {
    PageRequest page = PageRequest.from(ctx);
    ctx.json(page.page(providers.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()),
        ProviderView::name));
  }

  private void get(Context ctx) {
    ctx.json(providers.view(Auth.caller(ctx).workspaceId(), ctx.pathParam("name")));
  }

  private void update(Context ctx) {
    allowOnlyGetOnBuiltin(ctx);
    body.read(ctx, ProviderInput.class); // rejects unknown fields and wrong types before merging
    ctx.json(providers.update(Auth.caller(ctx), ctx.pathParam("name"), body.tree(ctx)));
  }

  private void delete(Context ctx) {
    allowOnlyGetOnBuiltin(ctx);
    providers.delete(Auth.caller(ctx), ctx.pathParam("name"));
    ctx.status(204);
  }

  /** The provider's models as {@code {"data": [...], "next_cursor": null}}. */
  private void models(Context ctx) {
    ModelEndpoint endpoint = providers.endpoint(Auth.caller(ctx).workspaceId(), ctx.pathParam("name"));
    JsonNode answer;
    try {
      answer = models.list(endpoint);
    } catch (DomainException e) {
      throw e;
    } catch (ModelCallException e) {
      throw new DomainException.UpstreamFailed(e.getMessage());
    } catch (RuntimeException e) {
      log.warn("Listing the models of {} failed: {}", endpoint, e.getClass().getSimpleName());
      throw new DomainException.UpstreamFailed("provider '" + endpoint.provider() + "' could not be reached at "
          + endpoint.baseUrl());
    }
    JsonNode data = answer.isArray() ? answer : answer.path("data");
    if (!data.isArray()) {
      throw new DomainException.UpstreamFailed("provider '" + endpoint.provider() + "' answered GET /models without a data list");
    }
    List<JsonNode> list = new ArrayList<>();
    data.forEach(list::add);
    ctx.json(new Page<>(list, null));
  }

  private static void allowOnlyGetOnBuiltin(Context ctx) {
    if (ctx.pathParam("name").equals(ProviderService.BUILTIN)) {
      ctx.header("Allow", "GET");
      throw new ApiException.MethodNotAllowed(
          "the built-in provider 'hf' is read-only; configure it with HF_API_URL and HUGGING_FACE_AUTH_TOKEN");
    }
  }
}
