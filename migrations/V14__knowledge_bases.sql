-- Knowledge bases: documents a workspace adds, split into chunks that full-text search finds.

CREATE TABLE knowledge_bases (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    name          text NOT NULL,
    description   text,
    -- The PostgreSQL text search configuration its chunks are indexed and searched with.
    language      regconfig NOT NULL DEFAULT 'english',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

-- A document as added, and where its ingestion (a durable job) stands. Its content stays here
-- until it is indexed, so that an ingestion interrupted by a crash starts again from it.
CREATE TABLE knowledge_documents (
    id                 text PRIMARY KEY,
    knowledge_base_id  text NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    workspace_id       text NOT NULL,
    name               text NOT NULL,
    format             text NOT NULL CHECK (format IN ('text', 'markdown', 'html', 'pdf')),
    source_url         text,
    content            bytea,
    sha256             text NOT NULL,
    size_bytes         int NOT NULL,
    status             text NOT NULL CHECK (status IN ('pending', 'indexing', 'ready', 'failed')),
    error              text,
    attempts           int NOT NULL DEFAULT 0,
    chunks_count       int NOT NULL DEFAULT 0,
    -- The node indexing it, until when: another node takes a job whose lease has expired.
    lease_owner        text,
    lease_expires_at   timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (knowledge_base_id, name)
);
CREATE INDEX knowledge_documents_jobs ON knowledge_documents (status, lease_expires_at)
    WHERE status IN ('pending', 'indexing');

CREATE TABLE knowledge_chunks (
    id                 text PRIMARY KEY,
    document_id        text NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    knowledge_base_id  text NOT NULL,
    position           int NOT NULL,
    heading_path       text[] NOT NULL,
    page               int,
    text               text NOT NULL,
    tsv                tsvector NOT NULL,
    UNIQUE (document_id, position)
);
CREATE INDEX knowledge_chunks_search ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_base ON knowledge_chunks (knowledge_base_id);

-- The knowledge bases an agent version searches, by name.
ALTER TABLE agent_versions ADD COLUMN knowledge jsonb NOT NULL DEFAULT '[]';

-- Semantic search, when a knowledge base names an embedding model of a provider: each chunk's
-- vector, from the provider's OpenAI-compatible /embeddings, as float32 little-endian bytes (read
-- back whole, without parsing, by the exact scan).
ALTER TABLE knowledge_bases
    ADD COLUMN embedding_provider text,
    ADD COLUMN embedding_model    text;
ALTER TABLE knowledge_chunks ADD COLUMN embedding bytea;

-- Long-term memory: blocks an agent keeps per memory key (e.g. a user id), shown to the model in
-- its system prompt and changed only by the agent's memory tools (journaled tool steps) or by the
-- API. Every change is a new version.
ALTER TABLE agent_versions ADD COLUMN memory_blocks jsonb NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN memory_key text;
ALTER TABLE runs ADD COLUMN memory_key text;

CREATE TABLE memory_blocks (
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    agent_id      text NOT NULL REFERENCES agents (id),
    memory_key    text NOT NULL,
    label         text NOT NULL,
    value         text NOT NULL,
    version       int NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, memory_key, label)
);

CREATE TABLE memory_block_versions (
    agent_id         text NOT NULL,
    memory_key       text NOT NULL,
    label            text NOT NULL,
    version          int NOT NULL,
    value            text NOT NULL,
    -- run:<id> for the agent's own tool calls, api:<key prefix> for the API.
    changed_by       text NOT NULL,
    -- The tool call's idempotency key: a call executed again after a crash changes nothing twice.
    idempotency_key  text UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, memory_key, label, version)
);
