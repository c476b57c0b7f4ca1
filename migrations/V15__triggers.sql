-- Triggers: what starts runs without an API call. A webhook trigger starts a run from each signed
-- delivery to /hooks/{id}; a schedule trigger starts one at each tick of its cron expression.

CREATE TABLE triggers (
    id                  text PRIMARY KEY,
    workspace_id        text NOT NULL REFERENCES workspaces (id),
    agent_id            text NOT NULL REFERENCES agents (id),
    kind                text NOT NULL CHECK (kind IN ('webhook', 'schedule')),
    state               text NOT NULL CHECK (state IN ('active', 'paused')),
    input_template      text NOT NULL,
    variables_template  jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Runs go into one conversation of this name (found or created on the first run), or, null,
    -- each into a new conversation.
    conversation_name   text,
    conversation_id     text REFERENCES conversations (id),
    -- A webhook's signing secret, encrypted like the workspace's secrets.
    secret_nonce        bytea,
    secret_ciphertext   bytea,
    cron                text,
    time_zone           text,
    missed              text CHECK (missed IN ('run_once', 'skip')),
    -- The schedule's next tick; a node fires it by moving it on in the run's creation transaction.
    next_fire_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK (kind <> 'webhook' OR (secret_nonce IS NOT NULL AND secret_ciphertext IS NOT NULL)),
    CHECK (kind <> 'schedule' OR (cron IS NOT NULL AND time_zone IS NOT NULL AND missed IS NOT NULL))
);

CREATE INDEX triggers_workspace ON triggers (workspace_id, id) WHERE deleted_at IS NULL;
CREATE INDEX triggers_due ON triggers (next_fire_at)
    WHERE kind = 'schedule' AND state = 'active' AND deleted_at IS NULL;

-- A webhook delivery, written in the transaction that creates its run: a retried delivery finds
-- its run here, and two deliveries racing with one id cannot both commit a run.
CREATE TABLE trigger_deliveries (
    trigger_id   text NOT NULL REFERENCES triggers (id),
    delivery_id  text NOT NULL,
    run_id       text NOT NULL REFERENCES runs (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trigger_id, delivery_id)
);

-- A schedule's tick, written in the transaction that creates its run: one run per tick, whichever
-- node fires it.
CREATE TABLE schedule_ticks (
    trigger_id  text NOT NULL REFERENCES triggers (id),
    tick_at     timestamptz NOT NULL,
    run_id      text NOT NULL REFERENCES runs (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trigger_id, tick_at)
);

ALTER TABLE runs ADD COLUMN trigger_id text REFERENCES triggers (id);
CREATE INDEX runs_trigger ON runs (trigger_id, id) WHERE trigger_id IS NOT NULL;
