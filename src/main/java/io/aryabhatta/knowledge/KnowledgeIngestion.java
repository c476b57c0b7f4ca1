package io.aryabhatta.knowledge;

import io.aryabhatta.ids.Ids;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes documents in the background, as a durable job in PostgreSQL: a node claims a
 * {@code pending} document (or one whose claim expired: its node died) with a lease, parses and
 * chunks it, and in one transaction replaces its chunks and marks it {@code ready}, fenced on its
 * own claim. A process killed mid-way has written nothing, so another node (or the same one,
 * restarted) begins the document again and no chunk is ever written twice. A document that fails
 * to parse is {@code failed} with the reason; one whose indexing was interrupted
 * {@value #MAX_ATTEMPTS} times is given up as failed too.
 */
public final class KnowledgeIngestion {
  static final int MAX_ATTEMPTS = 3;
  /** A document makes at most this many chunks (a 16 MiB text makes about 13,000). */
  static final int MAX_CHUNKS = 20_000;
  /** How long a document waits before it is tried again after its provider failed, per attempt made. */
  static final Duration RETRY_WAIT = Duration.ofSeconds(30);
  private static final ScheduledExecutorService HEARTBEATS = Executors.newSingleThreadScheduledExecutor(
      Thread.ofVirtual().name("knowledge-heartbeat").factory());
  /** About a screen of text: small enough to cite precisely, large enough to hold an answer. */
  public static final int CHUNK_TOKENS = 300;
  public static final int OVERLAP_TOKENS = 40;
  private static final Logger log = LoggerFactory.getLogger(KnowledgeIngestion.class);
  private static final Duration POLL = Duration.ofSeconds(2);

  private final Jdbi jdbi;
  private final Ids ids;
  private final String node;
  private final Duration lease;
  private final Chunker chunker;
  private final Embeddings.Embedder embedder;
  private final Semaphore wake = new Semaphore(0);
  private volatile boolean stopping;
  private Thread worker;

  public KnowledgeIngestion(Jdbi jdbi, Ids ids, String node, Duration lease, int chunkTokens, int overlapTokens,
      Embeddings.Embedder embedder) {
    this.jdbi = jdbi;
    this.embedder = embedder;
    this.ids = ids;
    this.node = node;
    this.lease = lease;
    this.chunker = new Chunker(chunkTokens, overlapTokens);
  }

  /** A claimed document: what indexing it needs. */
  private record Claimed(String id, String workspaceId, String knowledgeBaseId, DocumentFormat format,
      byte[] content, int attempts, KnowledgeService.EmbeddingModel embedding) {}

  public void start() {
    worker = Thread.ofVirtual().name("knowledge-ingestion").start(this::work);
  }

  /** A document waits: index it now rather than at the next poll. */
  public void wake() {
    wake.release();
  }

  public void stop() {
    stopping = true;
    wake.release();
    if (worker != null) {
      try {
        worker.join(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void work() {
    while (!stopping) {
      try {
        while (!stopping && indexNext()) {
          wake.drainPermits();
        }
        wake.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // The database may be away: try again at the next poll. (A document's own failures are
        // recorded on it, in index.)
        log.warn("Knowledge ingestion: {} ({})", e.getMessage(), e.getClass().getSimpleName());
        sleepQuietly();
      }
    }
  }

  /** Indexes one waiting document; false when none waits. */
  boolean indexNext() {
    Optional<Claimed> claimed = claim();
    if (claimed.isEmpty()) {
      return false;
    }
    Claimed document = claimed.get();
    if (document.attempts() > MAX_ATTEMPTS) {
      finishFailed(document, "indexing was interrupted " + MAX_ATTEMPTS + " times (the server stopped, or the "
          + "document could not be stored); add the document again");
      return true;
    }
    // The claim is renewed while the document is parsed and embedded, which may take longer than a
    // lease: only a node that stopped loses it.
    ScheduledFuture<?> heartbeat = HEARTBEATS.scheduleAtFixedRate(() -> renew(document), lease.toMillis() / 3,
        lease.toMillis() / 3, TimeUnit.MILLISECONDS);
    try {
      index(document);
    } finally {
      heartbeat.cancel(false);
    }
    return true;
  }

  private void index(Claimed document) {
    List<Chunker.Chunk> chunks;
    try {
      chunks = chunker.chunks(DocumentText.of(document.format(), document.content()));
    } catch (DocumentText.Unreadable e) {
      finishFailed(document, e.getMessage());
      return;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      // A hostile or broken file must not take the worker down: the document fails, the next one is read.
      log.warn("Knowledge document {} could not be parsed ({})", document.id(), e.getClass().getSimpleName());
      finishFailed(document, "the document could not be read (" + e.getClass().getSimpleName() + ")");
      return;
    }
    if (chunks.isEmpty()) {
      finishFailed(document, "the document holds no text");
      return;
    }
    if (chunks.size() > MAX_CHUNKS) {
      finishFailed(document, "the document makes " + chunks.size() + " chunks, more than the " + MAX_CHUNKS
          + " a document may have; split it");
      return;
    }
    List<float[]> vectors = null;
    if (document.embedding() != null) {
      try {
        vectors = embedder.embed(document.workspaceId(), document.embedding(),
            chunks.stream().map(KnowledgeIngestion::embeddedText).toList());
      } catch (Embeddings.Failed e) {
        retryLater(document, "the chunks could not be embedded: " + e.getMessage());
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    try {
      finishReady(document, chunks, vectors);
    } catch (RuntimeException e) {
      log.warn("Knowledge document {}: its chunks could not be stored ({})", document.id(),
          e.getClass().getSimpleName());
      finishFailed(document, "its chunks could not be stored (" + e.getClass().getSimpleName() + "); "
          + "the server log says more");
    }
  }

  private void renew(Claimed document) {
    try {
      jdbi.useHandle(h -> h.createUpdate("""
              UPDATE knowledge_documents SET lease_expires_at = now() + make_interval(secs => :lease)
              WHERE id = :d AND status = 'indexing' AND lease_owner = :node AND attempts = :attempts""")
          .bind("lease", (double) lease.toSeconds()).bind("d", document.id()).bind("node", node)
          .bind("attempts", document.attempts()).execute());
    } catch (RuntimeException e) {
      log.warn("Knowledge document {}: its claim could not be renewed ({})", document.id(),
          e.getClass().getSimpleName());
    }
  }

  /**
   * A provider that did not answer: the document waits and is tried again later (each try counts
   * as an attempt), rather than failing for a brief outage.
   */
  private void retryLater(Claimed document, String error) {
    if (document.attempts() >= MAX_ATTEMPTS) {
      finishFailed(document, error);
      return;
    }
    jdbi.useTransaction(h -> {
      if (fence(h, document)) {
        h.createUpdate("""
                UPDATE knowledge_documents SET status = 'pending', error = :e, lease_owner = NULL,
                       lease_expires_at = now() + make_interval(secs => :wait), updated_at = now()
                WHERE id = :d""")
            .bind("d", document.id()).bind("e", error + " (tried again later)")
            .bind("wait", (double) RETRY_WAIT.toSeconds() * document.attempts()).execute();
      }
    });
  }

  /** What a chunk's vector is made of: its headings, then its text. */
  private static String embeddedText(Chunker.Chunk chunk) {
    return chunk.headings().isEmpty() ? chunk.text() : String.join(" > ", chunk.headings()) + "\n" + chunk.text();
  }

  private Optional<Claimed> claim() {
    return jdbi.inTransaction(h -> h.createQuery("""
            UPDATE knowledge_documents d
               SET status = 'indexing', attempts = attempts + 1, lease_owner = :node,
                   lease_expires_at = now() + make_interval(secs => :lease), updated_at = now()
             WHERE id = (SELECT id FROM knowledge_documents
                          WHERE (status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= now()))
                             OR (status = 'indexing' AND lease_expires_at < now())
                          ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.workspace_id, d.knowledge_base_id, d.format, d.content, d.attempts,
                      (SELECT b.embedding_provider FROM knowledge_bases b WHERE b.id = d.knowledge_base_id)
                          AS embedding_provider,
                      (SELECT b.embedding_model FROM knowledge_bases b WHERE b.id = d.knowledge_base_id)
                          AS embedding_model""")
        .bind("node", node).bind("lease", (double) lease.toSeconds())
        .map((rs, c) -> new Claimed(rs.getString("id"), rs.getString("workspace_id"),
            rs.getString("knowledge_base_id"), DocumentFormat.of(rs.getString("format")), rs.getBytes("content"),
            rs.getInt("attempts"), rs.getString("embedding_model") == null ? null
                : new KnowledgeService.EmbeddingModel(rs.getString("embedding_provider"),
                    rs.getString("embedding_model"))))
        .findOne());
  }

  /** Replaces the document's chunks and marks it ready, if this node still holds its claim. */
  private void finishReady(Claimed document, List<Chunker.Chunk> chunks, List<float[]> vectors) {
    jdbi.useTransaction(h -> {
      if (!fence(h, document)) {
        return;
      }
      h.createUpdate("DELETE FROM knowledge_chunks WHERE document_id = :d").bind("d", document.id()).execute();
      PreparedBatch batch = h.prepareBatch("""
          INSERT INTO knowledge_chunks (id, document_id, knowledge_base_id, position, heading_path, page, text,
                                        embedding, tsv)
          SELECT :id, :d, :b, :position, :headings, :page, :text, :embedding,
                 to_tsvector(b.language, array_to_string(cast(:headings AS text[]), ' ') || E'\n' || :text)
            FROM knowledge_bases b WHERE b.id = :b""");
      for (int i = 0; i < chunks.size(); i++) {
        Chunker.Chunk chunk = chunks.get(i);
        batch.bind("embedding", vectors == null ? null : Vectors.bytes(vectors.get(i)));
        batch.bind("id", ids.next()).bind("d", document.id()).bind("b", document.knowledgeBaseId())
            .bind("position", chunk.position()).bind("headings", chunk.headings().toArray(String[]::new))
            .bind("page", chunk.page()).bind("text", chunk.text()).add();
      }
      batch.execute();
      h.createUpdate("""
              UPDATE knowledge_documents SET status = 'ready', error = NULL, chunks_count = :n, lease_owner = NULL,
                     lease_expires_at = NULL, updated_at = now()
              WHERE id = :d""")
          .bind("d", document.id()).bind("n", chunks.size()).execute();
    });
  }

  /** Fails the document; chunks of an earlier version go too, as their content is no longer the document's. */
  private void finishFailed(Claimed document, String error) {
    jdbi.useTransaction(h -> {
      if (fence(h, document)) {
        h.createUpdate("DELETE FROM knowledge_chunks WHERE document_id = :d").bind("d", document.id()).execute();
        h.createUpdate("""
                UPDATE knowledge_documents SET status = 'failed', error = :e, lease_owner = NULL,
                       lease_expires_at = NULL, updated_at = now()
                WHERE id = :d""")
            .bind("d", document.id()).bind("e", error).execute();
      }
    });
  }

  /**
   * Whether this node still holds the document's claim (locking the row until commit): it may
   * have expired and been taken by another node, or the document been replaced or deleted.
   */
  private boolean fence(Handle h, Claimed document) {
    return h.createQuery("""
            SELECT 1 FROM knowledge_documents
            WHERE id = :d AND status = 'indexing' AND lease_owner = :node AND attempts = :attempts FOR UPDATE""")
        .bind("d", document.id()).bind("node", node).bind("attempts", document.attempts())
        .mapTo(Integer.class).findOne().isPresent();
  }

  /** Gives a document the chunks of another with the same content, and marks it ready. */
  static void copyChunks(Handle h, Ids ids, String fromDocument, String toDocument) {
    List<String> chunkIds = h.createQuery("SELECT id FROM knowledge_chunks WHERE document_id = :d ORDER BY position")
        .bind("d", fromDocument).mapTo(String.class).list();
    h.createUpdate("DELETE FROM knowledge_chunks WHERE document_id = :d").bind("d", toDocument).execute();
    PreparedBatch batch = h.prepareBatch("""
        INSERT INTO knowledge_chunks (id, document_id, knowledge_base_id, position, heading_path, page, text, tsv,
                                      embedding)
        SELECT :id, :to, knowledge_base_id, position, heading_path, page, text, tsv, embedding
          FROM knowledge_chunks WHERE id = :from""");
    for (String chunk : chunkIds) {
      batch.bind("id", ids.next()).bind("to", toDocument).bind("from", chunk).add();
    }
    if (!chunkIds.isEmpty()) {
      batch.execute();
    }
    h.createUpdate("""
            UPDATE knowledge_documents SET status = 'ready', chunks_count = :n, attempts = 0, updated_at = now()
            WHERE id = :d""")
        .bind("d", toDocument).bind("n", chunkIds.size()).execute();
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(POLL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
