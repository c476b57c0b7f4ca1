-- Tenancy, API keys, the append-only audit log and idempotent creation.

CREATE TABLE workspaces (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO workspaces (id, name) VALUES ('default', 'default');

-- Keys are stored as SHA-256 hashes of high-entropy random tokens; only a prefix is shown again.
CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    name          text NOT NULL,
    prefix        text NOT NULL,
    key_hash      text NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('admin', 'member')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);

CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    workspace_id   text NOT NULL,
    actor          text NOT NULL,
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text NOT NULL,
    details        jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_resource ON audit_log (workspace_id, resource_type, resource_id, id);
CREATE INDEX audit_log_time ON audit_log (workspace_id, at, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

-- The first response to a creating POST, replayed for a repeated Idempotency-Key.
CREATE TABLE idempotency_keys (
    workspace_id   text NOT NULL,
    scope          text NOT NULL,
    key            text NOT NULL,
    request_hash   text NOT NULL,
    status         int,
    response_body  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, scope, key)
);
