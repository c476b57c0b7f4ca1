-- Callbacks: a run may name a URL that is told, once the run has ended, how it ended.
ALTER TABLE runs ADD COLUMN callback_url text;

-- One delivery per run with a callback_url, inserted in the transaction that ends the run.
CREATE TABLE callback_deliveries (
    id                text PRIMARY KEY,
    run_id            text NOT NULL UNIQUE REFERENCES runs (id),
    workspace_id      text NOT NULL REFERENCES workspaces (id),
    url               text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Every attempt made: when, its status code or error, and how long it took.
    attempts          jsonb NOT NULL DEFAULT '[]',
    attempt_count     int NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    -- The process sending the current attempt, until when (a process that dies leaves it to expire).
    lease_owner       text,
    lease_expires_at  timestamptz,
    last_status_code  int,
    last_error        text,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX callback_deliveries_due ON callback_deliveries (next_attempt_at) WHERE status = 'pending';

-- The key each workspace's deliveries are signed with, encrypted like stored secrets.
CREATE TABLE callback_secrets (
    workspace_id  text PRIMARY KEY REFERENCES workspaces (id),
    nonce         bytea NOT NULL,
    ciphertext    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
