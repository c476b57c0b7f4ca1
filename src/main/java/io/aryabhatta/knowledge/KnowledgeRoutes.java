package io.aryabhatta.knowledge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunService;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.http.ApiException;
import io.aryabhatta.http.Auth;
import io.aryabhatta.http.Idempotency;
import io.aryabhatta.http.JsonBody;
import io.aryabhatta.http.PageRequest;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** {@code /api/knowledge_bases}: knowledge bases, their documents, and search. */
public final class KnowledgeRoutes {
  private static final Map<String, String> FORMAT_TYPES = Map.of("text", "text/plain", "markdown", "text/markdown",
      "html", "text/html");

  private final KnowledgeService knowledge;
  private final RunService runs;
  private final RunStore store;
  private final ObjectMapper mapper;
  private final JsonBody body;
  private final Idempotency idempotency;
  private final long maxBodyBytes;

  /** @param maxBodyBytes the largest request, uploads included */
  public KnowledgeRoutes(KnowledgeService knowledge, RunService runs, RunStore store, ObjectMapper mapper,
      JsonBody body, Idempotency idempotency, long maxBodyBytes) {
    this.knowledge = knowledge;
    this.runs = runs;
    this.store = store;
    this.mapper = mapper;
    this.body = body;
    this.idempotency = idempotency;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** A document sent as JSON: its text, or a URL to fetch it from. */
  record DocumentJson(String name, String text, String url, String format) {}

  record SearchRequest(String query, Integer topK) {}

  record Hits(List<KnowledgeService.Hit> data) {}

  record Cited(List<JsonNode> data) {}

  public void register(RoutesConfig routes) {
    routes.post("/api/knowledge_bases", idempotency.wrap(ctx -> ctx.status(201).json(knowledge.create(
        Auth.caller(ctx), body.read(ctx, KnowledgeService.BaseInput.class)))));
    routes.get("/api/knowledge_bases", ctx -> {
      PageRequest page = PageRequest.from(ctx);
      ctx.json(page.page(knowledge.list(Auth.caller(ctx).workspaceId(), page.after(), page.fetchSize()),
          KnowledgeService.BaseView::name));
    });
    routes.get("/api/knowledge_bases/{id}", ctx -> ctx.json(knowledge.get(Auth.caller(ctx).workspaceId(),
        ctx.pathParam("id"))));
    routes.delete("/api/knowledge_bases/{id}", ctx -> {
      knowledge.delete(Auth.caller(ctx), ctx.pathParam("id"));
      ctx.status(204);
    });
    routes.post("/api/knowledge_bases/{id}/documents", this::addDocument);
    routes.get("/api/knowledge_bases/{id}/documents", ctx -> {
      PageRequest page = PageRequest.from(ctx);
      ctx.json(page.page(knowledge.documents(Auth.caller(ctx).workspaceId(), ctx.pathParam("id"), page.after(),
          page.fetchSize()), KnowledgeService.DocumentView::name));
    });
    routes.get("/api/knowledge_bases/{id}/documents/{document}", ctx -> ctx.json(knowledge.document(
        Auth.caller(ctx).workspaceId(), ctx.pathParam("id"), ctx.pathParam("document"))));
    routes.delete("/api/knowledge_bases/{id}/documents/{document}", ctx -> {
      knowledge.deleteDocument(Auth.caller(ctx), ctx.pathParam("id"), ctx.pathParam("document"));
      ctx.status(204);
    });
    routes.get("/api/knowledge_chunks/{id}", ctx -> ctx.json(knowledge.chunk(Auth.caller(ctx).workspaceId(),
        ctx.pathParam("id"))));
    routes.get("/api/runs/{id}/citations", ctx -> {
      Run run = runs.run(Auth.caller(ctx), ctx.pathParam("id"));
      ctx.json(new Cited(Citations.of(run.output(), store.steps(run.id()), mapper)));
    });
    routes.post("/api/knowledge_bases/{id}/search", ctx -> {
      SearchRequest request = body.read(ctx, SearchRequest.class);
      ctx.json(new Hits(knowledge.search(Auth.caller(ctx).workspaceId(), ctx.pathParam("id"), request.query(),
          request.topK())));
    });
  }

  /**
   * A file upload ({@code multipart/form-data}: the file in {@code file}, an optional
   * {@code name}), or JSON. 202 while the document waits to be indexed; 200 when nothing was left
   * to do (the same document again, or content already indexed under another name).
   */
  private void addDocument(Context ctx) throws Exception {
    String baseId = ctx.pathParam("id");
    KnowledgeService.DocumentView document;
    if (ctx.isMultipartFormData()) {
      if (ctx.req().getContentLengthLong() > maxBodyBytes) {
        throw new ApiException.PayloadTooLarge(maxBodyBytes);
      }
      UploadedFile file = ctx.uploadedFile("file");
      if (file == null) {
        throw new DomainException.ValidationFailed("file", "is required: the document, as a multipart file part");
      }
      String name = ctx.formParam("name") != null && !ctx.formParam("name").isBlank() ? ctx.formParam("name")
          : file.filename();
      document = knowledge.add(Auth.caller(ctx), baseId, new KnowledgeService.NewDocument(name, file.contentType(),
          read(file), null));
    } else {
      DocumentJson json = body.read(ctx, DocumentJson.class);
      if ((json.text() == null) == (json.url() == null)) {
        throw new DomainException.ValidationFailed("text", "give the document's text, or a url to fetch it from "
            + "(one of them)");
      }
      if (json.url() != null) {
        document = knowledge.addFromUrl(Auth.caller(ctx), baseId, json.name(), json.url());
      } else {
        String type = json.format() == null ? null : FORMAT_TYPES.get(json.format());
        if (json.format() != null && type == null) {
          throw new DomainException.ValidationFailed("format", "must be one of text, markdown, html");
        }
        document = knowledge.add(Auth.caller(ctx), baseId, new KnowledgeService.NewDocument(json.name(),
            type == null ? "text/plain" : type, json.text().getBytes(StandardCharsets.UTF_8), null));
      }
    }
    ctx.status(document.status().equals("pending") ? 202 : 200).json(document);
  }

  private static byte[] read(UploadedFile file) throws IOException {
    if (file.size() > KnowledgeService.MAX_DOCUMENT_BYTES) {
      throw new DomainException.ValidationFailed("file", "is " + file.size() + " bytes; a document may have at most "
          + KnowledgeService.MAX_DOCUMENT_BYTES);
    }
    try (InputStream in = file.content()) {
      return in.readNBytes((int) KnowledgeService.MAX_DOCUMENT_BYTES + 1);
    }
  }
}
