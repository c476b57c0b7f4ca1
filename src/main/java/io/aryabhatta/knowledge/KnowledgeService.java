package io.aryabhatta.knowledge;

import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.db.Rows;
import io.aryabhatta.db.UniqueNames;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import io.aryabhatta.ids.Ids;
import io.aryabhatta.providers.ProviderService;
import io.aryabhatta.tools.GuardedFetch;
import io.aryabhatta.workspaces.Caller;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.PriorityQueue;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Knowledge bases of a workspace, their documents, and search over their chunks. Adding a
 * document stores it {@code pending} and answers at once; {@link KnowledgeIngestion} indexes it.
 */
public final class KnowledgeService {
  public static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");
  /** The largest document; the request's own limit (ARYABHATTA_MAX_BODY_BYTES) applies first. */
  public static final long MAX_DOCUMENT_BYTES = 16L * 1024 * 1024;
  static final int MAX_DOCUMENT_NAME = 256;
  static final int MAX_TOP_K = 50;
  static final int MAX_QUERY_CHARS = 2_000;
  private static final UniqueNames NAMES = UniqueNames.of("knowledge_bases", "a knowledge base");
  private static final String BASE_COLUMNS = "id, name, description, cast(language AS text) AS language, "
      + "embedding_provider, embedding_model, created_at, updated_at, "
      + "(SELECT count(*) FROM knowledge_documents d WHERE d.knowledge_base_id = b.id) AS documents";
  /** How many of each list reciprocal rank fusion considers, and its constant (60, as usual). */
  static final int FUSED_DEPTH = 50;
  static final int RRF_K = 60;
  private static final String DOCUMENT_COLUMNS = "id, knowledge_base_id, name, format, source_url, sha256, "
      + "size_bytes, status, error, attempts, chunks_count, created_at, updated_at";

  private final Jdbi jdbi;
  private final AuditLog audit;
  private final Ids ids;
  private final GuardedFetch fetch;
  private final ProviderService providers;
  private final Embeddings.Embedder embedder;
  private final long maxDocumentBytes;
  private final Runnable documentAdded;

  /**
   * @param documentAdded wakes the ingestion when a document waits
   */
  public KnowledgeService(Jdbi jdbi, AuditLog audit, Ids ids, GuardedFetch fetch, ProviderService providers,
      Embeddings.Embedder embedder, long maxDocumentBytes, Runnable documentAdded) {
    this.jdbi = jdbi;
    this.audit = audit;
    this.ids = ids;
    this.fetch = fetch;
    this.providers = providers;
    this.embedder = embedder;
    this.maxDocumentBytes = maxDocumentBytes;
    this.documentAdded = documentAdded;
  }

  /** An embedding model of one of the workspace's providers. */
  public record EmbeddingModel(String provider, String model) {}

  public record BaseInput(String name, String description, String language, EmbeddingModel embedding) {}

  public record BaseView(String id, String name, String description, String language, EmbeddingModel embedding,
      long documents, Instant createdAt, Instant updatedAt) {}

  public record DocumentView(String id, String knowledgeBaseId, String name, String format, String sourceUrl,
      String sha256, int sizeBytes, String status, String error, int attempts, int chunksCount, Instant createdAt,
      Instant updatedAt) {}

  /** A document as added: its bytes and what they are. */
  public record NewDocument(String name, String contentType, byte[] content, String sourceUrl) {}

  /** A chunk found by a search, with what cites it. */
  public record Hit(String chunkId, String knowledgeBase, String documentId, String documentName, int position,
      List<String> headingPath, Integer page, String text, double score) {}

  // ---- knowledge bases ----

  public BaseView create(Caller caller, BaseInput input) {
    List<FieldError> errors = new ArrayList<>();
    if (input.name() == null || !NAME.matcher(input.name()).matches()) {
      errors.add(new FieldError("name", "must match " + NAME.pattern()));
    }
    if (input.description() != null && input.description().length() > 4096) {
      errors.add(new FieldError("description", "must be at most 4096 characters"));
    }
    String language = input.language() == null ? "english" : input.language();
    if (!jdbi.withHandle(h -> h.createQuery("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = :l)")
        .bind("l", language).mapTo(Boolean.class).one())) {
      errors.add(new FieldError("language", "must be a PostgreSQL text search configuration, e.g. english, "
          + "simple, german, french"));
    }
    EmbeddingModel embedding = input.embedding();
    if (embedding != null) {
      if (embedding.provider() == null || !providers.exists(caller.workspaceId(), embedding.provider())) {
        errors.add(new FieldError("embedding.provider", "must name a provider of the workspace"));
      }
      if (embedding.model() == null || embedding.model().isBlank() || embedding.model().length() > 256) {
        errors.add(new FieldError("embedding.model", "is required: the provider's embedding model"));
      }
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    String id = ids.next();
    return NAMES.claim(input.name(), () -> jdbi.inTransaction(h -> {
      NAMES.ensureFree(h, caller.workspaceId(), input.name());
      h.createUpdate("""
              INSERT INTO knowledge_bases (id, workspace_id, name, description, language, embedding_provider,
                                           embedding_model)
              VALUES (:id, :w, :name, :description, cast(:language AS regconfig), :provider, :model)""")
          .bind("id", id).bind("w", caller.workspaceId()).bind("name", input.name())
          .bind("description", input.description()).bind("language", language)
          .bind("provider", embedding == null ? null : embedding.provider())
          .bind("model", embedding == null ? null : embedding.model()).execute();
      audit.record(h, caller, "knowledge_base.created", "knowledge_base", id, Map.of("name", input.name(),
          "language", language));
      return base(h, caller.workspaceId(), id);
    }));
  }

  public List<BaseView> list(String workspaceId, String afterName, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT " + BASE_COLUMNS + """
             FROM knowledge_bases b
            WHERE workspace_id = :w AND (cast(:after AS text) IS NULL OR name COLLATE "C" > :after)
            ORDER BY name COLLATE "C" LIMIT :limit""")
        .bind("w", workspaceId).bind("after", afterName).bind("limit", limit)
        .map((rs, c) -> baseView(rs)).list());
  }

  public BaseView get(String workspaceId, String id) {
    return jdbi.withHandle(h -> base(h, workspaceId, id));
  }

  /** Removes the knowledge base with its documents and chunks. */
  public void delete(Caller caller, String id) {
    jdbi.useTransaction(h -> {
      BaseView base = base(h, caller.workspaceId(), id);
      h.createUpdate("DELETE FROM knowledge_bases WHERE id = :id").bind("id", id).execute();
      audit.record(h, caller, "knowledge_base.deleted", "knowledge_base", id, Map.of("name", base.name()));
    });
  }

  private BaseView base(Handle h, String workspaceId, String id) {
    return h.createQuery("SELECT " + BASE_COLUMNS + " FROM knowledge_bases b WHERE id = :id AND workspace_id = :w")
        .bind("id", id).bind("w", workspaceId).map((rs, c) -> baseView(rs)).findOne()
        .orElseThrow(() -> DomainException.NotFound.of("knowledge base", id));
  }

  private static BaseView baseView(ResultSet rs) throws SQLException {
    EmbeddingModel embedding = rs.getString("embedding_model") == null ? null
        : new EmbeddingModel(rs.getString("embedding_provider"), rs.getString("embedding_model"));
    return new BaseView(rs.getString("id"), rs.getString("name"), rs.getString("description"),
        rs.getString("language"), embedding, rs.getLong("documents"), Rows.instant(rs, "created_at"),
        Rows.instant(rs, "updated_at"));
  }

  // ---- documents ----

  /** Fetches {@code url} through the address guard (text, Markdown or HTML) and adds it. */
  public DocumentView addFromUrl(Caller caller, String baseId, String name, String url) throws InterruptedException {
    base(caller.workspaceId(), baseId);
    GuardedFetch.Page page;
    try {
      page = fetch.get(url);
    } catch (GuardedFetch.Refused e) {
      throw new DomainException.ValidationFailed("url", "could not be fetched: " + e.getMessage());
    }
    if (page.truncated()) {
      throw new DomainException.ValidationFailed("url", "the page is larger than the " + maxDocumentBytes
          + " bytes a document may have");
    }
    return add(caller, baseId, new NewDocument(name, page.contentType(), page.text().getBytes(StandardCharsets.UTF_8),
        page.url()));
  }

  /**
   * Stores a document {@code pending}, or replaces the one of the same name. The same content
   * under the same name changes nothing; the same content as another ready document of the
   * knowledge base is not processed again: its chunks are copied. A document that is empty,
   * too large, of an unsupported format, or an unreadable or encrypted PDF stores nothing.
   */
  public DocumentView add(Caller caller, String baseId, NewDocument document) {
    String name = document.name() == null ? null : document.name().strip();
    if (name == null || name.isEmpty() || name.length() > MAX_DOCUMENT_NAME) {
      throw new DomainException.ValidationFailed("name", "is required: 1 to " + MAX_DOCUMENT_NAME + " characters");
    }
    byte[] content = document.content() == null ? new byte[0] : document.content();
    if (content.length > maxDocumentBytes) {
      throw new DomainException.ValidationFailed("content", "is " + content.length + " bytes; a document may have "
          + "at most " + maxDocumentBytes + "");
    }
    DocumentFormat format = DocumentFormat.detect(document.contentType(), name);
    if (format == null) {
      throw new DomainException.ValidationFailed("content", "unsupported type '" + document.contentType()
          + "': a knowledge base reads plain text, Markdown, HTML and PDF (by type, or by the name's extension "
          + ".txt, .md, .html, .pdf)");
    }
    if (format != DocumentFormat.PDF) {
      String text = new String(content, StandardCharsets.UTF_8);
      if (text.isBlank()) {
        throw new DomainException.ValidationFailed("content", "is empty");
      }
      if (text.indexOf('\u0000') >= 0) {
        throw new DomainException.ValidationFailed("content", "holds binary data, not " + format.wire());
      }
    }
    if (format == DocumentFormat.PDF) {
      try {
        DocumentText.checkPdf(content);
      } catch (DocumentText.Unreadable e) {
        throw new DomainException.ValidationFailed("content", e.getMessage());
      }
    }
    String sha256 = sha256(content);
    DocumentView stored = jdbi.inTransaction(h -> {
      BaseView base = base(h, caller.workspaceId(), baseId);
      h.createQuery("SELECT id FROM knowledge_bases WHERE id = :id FOR UPDATE").bind("id", base.id())
          .mapTo(String.class).one();
      Optional<DocumentView> existing = document(h, baseId, "name", name);
      if (existing.isPresent() && existing.get().sha256().equals(sha256)
          && !existing.get().status().equals("failed")) {
        return existing.get();
      }
      Optional<String> twin = h.createQuery("""
              SELECT id FROM knowledge_documents
              WHERE knowledge_base_id = :b AND sha256 = :sha AND status = 'ready' AND name <> :name LIMIT 1
              FOR SHARE""")
          .bind("b", baseId).bind("sha", sha256).bind("name", name).mapTo(String.class).findOne();
      String id = existing.map(DocumentView::id).orElseGet(ids::next);
      h.createUpdate("""
              INSERT INTO knowledge_documents (id, knowledge_base_id, workspace_id, name, format, source_url, content,
                                               sha256, size_bytes, status)
              VALUES (:id, :b, :w, :name, :format, :url, :content, :sha, :size, 'pending')
              ON CONFLICT (id) DO UPDATE SET format = excluded.format, source_url = excluded.source_url,
                  content = excluded.content, sha256 = excluded.sha256, size_bytes = excluded.size_bytes,
                  status = 'pending', error = NULL, attempts = 0, lease_owner = NULL, lease_expires_at = NULL,
                  updated_at = now()""")
          .bind("id", id).bind("b", baseId).bind("w", caller.workspaceId()).bind("name", name)
          .bind("format", format.wire()).bind("url", document.sourceUrl()).bind("content", content)
          .bind("sha", sha256).bind("size", content.length).execute();
      twin.ifPresent(from -> KnowledgeIngestion.copyChunks(h, ids, from, id));
      audit.record(h, caller, existing.isPresent() ? "knowledge_document.replaced" : "knowledge_document.added",
          "knowledge_document", id, Map.of("knowledge_base_id", baseId, "name", name, "format", format.wire(),
              "sha256", sha256, "bytes", content.length));
      return document(h, baseId, "id", id).orElseThrow();
    });
    if (stored.status().equals("pending")) {
      documentAdded.run();
    }
    return stored;
  }

  public List<DocumentView> documents(String workspaceId, String baseId, String afterName, int limit) {
    base(workspaceId, baseId);
    return jdbi.withHandle(h -> h.createQuery("SELECT " + DOCUMENT_COLUMNS + """
             FROM knowledge_documents
            WHERE knowledge_base_id = :b AND (cast(:after AS text) IS NULL OR name COLLATE "C" > :after)
            ORDER BY name COLLATE "C" LIMIT :limit""")
        .bind("b", baseId).bind("after", afterName).bind("limit", limit)
        .map((rs, c) -> documentView(rs)).list());
  }

  public DocumentView document(String workspaceId, String baseId, String documentId) {
    base(workspaceId, baseId);
    return jdbi.withHandle(h -> document(h, baseId, "id", documentId))
        .orElseThrow(() -> DomainException.NotFound.of("document", documentId));
  }

  public void deleteDocument(Caller caller, String baseId, String documentId) {
    jdbi.useTransaction(h -> {
      base(h, caller.workspaceId(), baseId);
      DocumentView document = document(h, baseId, "id", documentId)
          .orElseThrow(() -> DomainException.NotFound.of("document", documentId));
      h.createUpdate("DELETE FROM knowledge_documents WHERE id = :id").bind("id", documentId).execute();
      audit.record(h, caller, "knowledge_document.deleted", "knowledge_document", documentId,
          Map.of("knowledge_base_id", baseId, "name", document.name()));
    });
  }

  private void base(String workspaceId, String baseId) {
    jdbi.useHandle(h -> base(h, workspaceId, baseId));
  }

  private static Optional<DocumentView> document(Handle h, String baseId, String column, String value) {
    return h.createQuery("SELECT " + DOCUMENT_COLUMNS + " FROM knowledge_documents WHERE knowledge_base_id = :b AND "
            + column + " = :v")
        .bind("b", baseId).bind("v", value).map((rs, c) -> documentView(rs)).findOne();
  }

  private static DocumentView documentView(ResultSet rs) throws SQLException {
    return new DocumentView(rs.getString("id"), rs.getString("knowledge_base_id"), rs.getString("name"),
        rs.getString("format"), rs.getString("source_url"), rs.getString("sha256"), rs.getInt("size_bytes"),
        rs.getString("status"), rs.getString("error"), rs.getInt("attempts"), rs.getInt("chunks_count"),
        Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
  }

  /** A chunk of the workspace: what a citation links to. */
  public Hit chunk(String workspaceId, String chunkId) {
    return jdbi.withHandle(h -> h.createQuery("""
            SELECT c.id, b.name AS base_name, c.document_id, d.name AS document_name, c.position, c.heading_path,
                   c.page, c.text, 0 AS score
            FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
                 JOIN knowledge_bases b ON b.id = c.knowledge_base_id
            WHERE c.id = :id AND b.workspace_id = :w""")
        .bind("id", chunkId).bind("w", workspaceId).map((rs, c) -> hit(rs)).findOne()
        .orElseThrow(() -> DomainException.NotFound.of("knowledge chunk", chunkId)));
  }

  private static Hit hit(ResultSet rs) throws SQLException {
    return new Hit(rs.getString("id"), rs.getString("base_name"), rs.getString("document_id"),
        rs.getString("document_name"), rs.getInt("position"),
        Arrays.asList((String[]) rs.getArray("heading_path").getArray()), (Integer) rs.getObject("page"),
        rs.getString("text"), rs.getDouble("score"));
  }

  // ---- search ----

  /**
   * The chunks that best match {@code query}, by PostgreSQL full-text search with the knowledge
   * base's language: any of the query's words may match ({@code websearch_to_tsquery} syntax, its
   * terms joined by OR), ranked by {@code ts_rank_cd}, which favours chunks holding more of them
   * close together.
   */
  public List<Hit> search(String workspaceId, String baseId, String query, Integer topK) {
    return search(workspaceId, "id", baseId, query, topK);
  }

  /** The same, for the knowledge base of that name (the agent's tool names them). */
  List<Hit> searchByName(String workspaceId, String name, String query, int topK) {
    return search(workspaceId, "name", name, query, topK);
  }

  private List<Hit> search(String workspaceId, String column, String base, String query, Integer topK) {
    List<FieldError> errors = new ArrayList<>();
    if (query == null || query.isBlank()) {
      errors.add(new FieldError("query", "is required"));
    } else if (query.length() > MAX_QUERY_CHARS) {
      errors.add(new FieldError("query", "must be at most " + MAX_QUERY_CHARS + " characters"));
    }
    int k = topK == null ? 5 : topK;
    if (k < 1 || k > MAX_TOP_K) {
      errors.add(new FieldError("top_k", "must be between 1 and " + MAX_TOP_K));
    }
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    Target target = jdbi.withHandle(h -> h.createQuery("SELECT id, name, cast(language AS text) AS language, "
            + "embedding_provider, embedding_model FROM knowledge_bases WHERE workspace_id = :w AND " + column + " = :v")
        .bind("w", workspaceId).bind("v", base)
        .map((rs, c) -> new Target(rs.getString("id"), rs.getString("name"), rs.getString("language"),
            rs.getString("embedding_provider"), rs.getString("embedding_model")))
        .findOne())
        .orElseThrow(() -> DomainException.NotFound.of("knowledge base", base));
    if (target.model() == null) {
      return fullText(target, query, k);
    }
    float[] vector = embedQuery(workspaceId, target, query);
    return fused(fullText(target, query, FUSED_DEPTH), nearest(target.id(), vector, FUSED_DEPTH), k);
  }

  /** A knowledge base searched, its language, and its embedding model (null: full text only). */
  private record Target(String id, String name, String language, String provider, String model) {}

  /**
   * PostgreSQL full-text search with the knowledge base's language: any of the query's words may
   * match ({@code websearch_to_tsquery} syntax, its terms joined by OR), ranked by
   * {@code ts_rank_cd}, which favours chunks holding more of them close together.
   */
  private List<Hit> fullText(Target base, String query, int k) {
    return jdbi.withHandle(h -> {
      // Computed first, so that the search below compares with a constant the GIN index can use.
      String tsquery = anyOf(h.createQuery("SELECT cast(websearch_to_tsquery(cast(:l AS regconfig), :q) AS text)")
          .bind("l", base.language()).bind("q", query).mapTo(String.class).one());
      if (tsquery.isBlank()) {
        return List.of();
      }
      return h.createQuery("""
              SELECT c.id, :name AS base_name, c.document_id, d.name AS document_name, c.position, c.heading_path,
                     c.page, c.text, ts_rank_cd(c.tsv, cast(:tsquery AS tsquery), 1) AS score
              FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
              WHERE c.knowledge_base_id = :b AND c.tsv @@ cast(:tsquery AS tsquery)
              ORDER BY score DESC, c.id
              LIMIT :k""")
          .bind("b", base.id()).bind("name", base.name()).bind("tsquery", tsquery).bind("k", k)
          .map((rs, c) -> hit(rs))
          .list();
    });
  }

  /**
   * The query with any of its words enough to match: its terms joined by OR, while its negations
   * ({@code -word}) still exclude. A query that says {@code or} itself, or groups terms, is kept.
   */
  static String anyOf(String tsquery) {
    if (tsquery.contains("|") || tsquery.contains("(")) {
      return tsquery;
    }
    List<String> wanted = new ArrayList<>();
    List<String> excluded = new ArrayList<>();
    for (String term : tsquery.split(" & ")) {
      (term.startsWith("!") ? excluded : wanted).add(term);
    }
    if (wanted.isEmpty()) {
      return tsquery;
    }
    String any = wanted.size() == 1 ? wanted.get(0) : "( " + String.join(" | ", wanted) + " )";
    return excluded.isEmpty() ? any : any + " & " + String.join(" & ", excluded);
  }

  private float[] embedQuery(String workspaceId, Target target, String query) {
    try {
      return embedder.embed(workspaceId, new EmbeddingModel(target.provider(), target.model()), List.of(query)).get(0);
    } catch (Embeddings.Failed e) {
      throw new DomainException.UpstreamFailed("the query could not be embedded: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DomainException.UpstreamFailed("the query's embedding was interrupted");
    }
  }

  /**
   * The chunks nearest to {@code vector} by cosine similarity, by an exact scan of the knowledge
   * base's vectors in this process (fast to tens of thousands of chunks; see BENCHMARKS.md).
   */
  private List<Hit> nearest(String baseId, float[] vector, int k) {
    double norm = Vectors.norm(vector);
    PriorityQueue<Map.Entry<String, Double>> best = new PriorityQueue<>(Map.Entry.comparingByValue());
    // In a transaction, so that the driver streams the rows (its fetch size) instead of reading all first.
    jdbi.useTransaction(h -> h.createQuery("SELECT id, embedding FROM knowledge_chunks WHERE knowledge_base_id = :b "
            + "AND embedding IS NOT NULL")
        .bind("b", baseId).setFetchSize(1_000)
        .map((rs, c) -> Map.entry(rs.getString("id"), Vectors.cosine(vector, norm, rs.getBytes("embedding"))))
        .forEach(entry -> {
          if (entry.getValue() <= 0) {
            return; // unrelated, or a vector of another model's size: no match
          }
          best.add(entry);
          if (best.size() > k) {
            best.poll();
          }
        }));
    List<Map.Entry<String, Double>> ranked = new ArrayList<>(best);
    ranked.sort(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    Map<String, Hit> byId = hits(ranked.stream().map(Map.Entry::getKey).toList());
    return ranked.stream().filter(e -> byId.containsKey(e.getKey()))
        .map(e -> withScore(byId.get(e.getKey()), e.getValue())).toList();
  }

  /** Reciprocal rank fusion: each chunk scores the sum of 1 / (60 + its rank) over the lists it is in. */
  private static List<Hit> fused(List<Hit> fullText, List<Hit> semantic, int k) {
    Map<String, Double> scores = new LinkedHashMap<>();
    Map<String, Hit> hits = new LinkedHashMap<>();
    for (List<Hit> list : List.of(fullText, semantic)) {
      for (int rank = 0; rank < list.size(); rank++) {
        Hit hit = list.get(rank);
        scores.merge(hit.chunkId(), 1.0 / (RRF_K + rank + 1), Double::sum);
        hits.putIfAbsent(hit.chunkId(), hit);
      }
    }
    return scores.entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .limit(k).map(e -> withScore(hits.get(e.getKey()), e.getValue())).toList();
  }

  private static Hit withScore(Hit hit, double score) {
    return new Hit(hit.chunkId(), hit.knowledgeBase(), hit.documentId(), hit.documentName(), hit.position(),
        hit.headingPath(), hit.page(), hit.text(), score);
  }

  private Map<String, Hit> hits(List<String> chunkIds) {
    Map<String, Hit> byId = new LinkedHashMap<>();
    if (chunkIds.isEmpty()) {
      return byId;
    }
    jdbi.useHandle(h -> h.createQuery("""
            SELECT c.id, b.name AS base_name, c.document_id, d.name AS document_name, c.position, c.heading_path,
                   c.page, c.text, 0 AS score
            FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
                 JOIN knowledge_bases b ON b.id = c.knowledge_base_id
            WHERE c.id = ANY(:ids)""")
        .bind("ids", chunkIds.toArray(String[]::new)).map((rs, c) -> hit(rs)).forEach(hit -> byId.put(hit.chunkId(), hit)));
    return byId;
  }


  static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
