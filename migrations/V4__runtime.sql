-- Conversations, runs and their journal (steps) and event log.

CREATE TABLE conversations (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    agent_id      text NOT NULL,
    variables     jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX conversations_workspace ON conversations (workspace_id, id);

-- The conversation as the model sees it, in order. seq is dense per conversation.
CREATE TABLE messages (
    conversation_id  text NOT NULL REFERENCES conversations (id),
    seq              int NOT NULL,
    run_id           text,
    role             text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content          text,
    tool_calls       jsonb,
    tool_call_id     text,
    name             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE runs (
    id                 text PRIMARY KEY,
    workspace_id       text NOT NULL REFERENCES workspaces (id),
    conversation_id    text NOT NULL REFERENCES conversations (id),
    agent_id           text NOT NULL,
    agent_version      int NOT NULL,
    system_prompt      text NOT NULL,
    stream             boolean NOT NULL DEFAULT true,
    status             text NOT NULL CHECK (status IN ('queued', 'running', 'requires_action', 'completed', 'failed', 'cancelled')),
    output             text,
    error              jsonb,
    required_action    jsonb,
    prompt_tokens      int NOT NULL DEFAULT 0,
    completion_tokens  int NOT NULL DEFAULT 0,
    total_tokens       int NOT NULL DEFAULT 0,
    steps_count        int NOT NULL DEFAULT 0,
    last_event_id      bigint NOT NULL DEFAULT 0,
    cancel_requested   boolean NOT NULL DEFAULT false,
    -- The lease: which process executes the run, until when, and the epoch that fences its writes.
    lease_owner        text,
    lease_epoch        bigint NOT NULL DEFAULT 0,
    lease_expires_at   timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    ended_at           timestamptz
);

CREATE INDEX runs_workspace ON runs (workspace_id, id);
CREATE INDEX runs_claimable ON runs (created_at) WHERE status IN ('queued', 'running');
CREATE UNIQUE INDEX runs_one_active_per_conversation ON runs (conversation_id)
    WHERE status IN ('queued', 'running', 'requires_action');

-- The journal: every model call and tool call of a run, in order.
CREATE TABLE run_steps (
    run_id           text NOT NULL REFERENCES runs (id),
    idx              int NOT NULL,
    type             text NOT NULL CHECK (type IN ('llm_call', 'tool_call')),
    status           text NOT NULL,
    started_at       timestamptz,
    ended_at         timestamptz,
    duration_ms      bigint,
    request          jsonb,
    response         jsonb,
    usage            jsonb,
    attempts         jsonb NOT NULL DEFAULT '[]'::jsonb,
    tool_call_id     text,
    name             text,
    arguments        text,
    result           text,
    error            text,
    idempotency_key  text,
    decision_reason  text,
    PRIMARY KEY (run_id, idx)
);

CREATE TABLE run_events (
    run_id      text NOT NULL REFERENCES runs (id),
    id          bigint NOT NULL,
    type        text NOT NULL,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, id)
);
