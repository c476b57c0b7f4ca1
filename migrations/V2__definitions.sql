-- What a user defines before running an agent: agents (with immutable versions), tools,
-- encrypted secrets and model providers. Everything is scoped to a workspace.

CREATE TABLE agents (
    id               text PRIMARY KEY,
    workspace_id     text NOT NULL REFERENCES workspaces (id),
    name             text NOT NULL,
    current_version  int NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);

-- A name is taken only while its agent lives, so it can be reused after a (soft) delete.
CREATE UNIQUE INDEX agents_live_name ON agents (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX agents_workspace ON agents (workspace_id, id);

-- Full snapshots, never updated: a run pins (agent_id, version) and can always re-read it.
CREATE TABLE agent_versions (
    agent_id        text NOT NULL REFERENCES agents (id),
    version         int NOT NULL,
    workspace_id    text NOT NULL,
    name            text NOT NULL,
    description     text,
    system_prompt   text NOT NULL,
    model           jsonb NOT NULL,
    tools           jsonb NOT NULL,
    tool_approval   text NOT NULL CHECK (tool_approval IN ('never', 'always', 'per_tool')),
    max_steps       int NOT NULL,
    context_window  int NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, version)
);

CREATE TABLE tools (
    id                 text PRIMARY KEY,
    workspace_id       text NOT NULL REFERENCES workspaces (id),
    name               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('http', 'client', 'mcp')),
    description        text NOT NULL,
    parameters         jsonb NOT NULL,
    http               jsonb,
    idempotent         boolean NOT NULL,
    requires_approval  boolean NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

-- AES-256-GCM: a fresh 12-byte nonce per value; the tag is part of the ciphertext.
CREATE TABLE secrets (
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    name          text NOT NULL,
    nonce         bytea NOT NULL,
    ciphertext    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, name)
);

-- One known value encrypted with the secret key, so a start with a different key is refused
-- instead of failing later on every secret.
CREATE TABLE secret_key_check (
    id          int PRIMARY KEY CHECK (id = 1),
    nonce       bytea NOT NULL,
    ciphertext  bytea NOT NULL
);

CREATE TABLE providers (
    id                  text PRIMARY KEY,
    workspace_id        text NOT NULL REFERENCES workspaces (id),
    name                text NOT NULL,
    base_url            text NOT NULL,
    api_key_secret      text,
    default_headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    max_attempts        int,
    connect_timeout_ms  int,
    read_timeout_ms     int,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);
