-- The OpenAI Responses API. A response is a run, or for a run that stopped for the client (its
-- function tools' outputs, approvals) and was continued, the part of the run after that point.

-- Function tools a client passed with its request: {name, description, parameters} each. The
-- model is offered them beside the agent's tools; a call of one waits for the client's output.
-- json, not jsonb: the tools are offered again exactly as the client wrote them (key order kept).
ALTER TABLE runs ADD COLUMN client_tools json;

CREATE TABLE responses (
    id                    text PRIMARY KEY,
    workspace_id          text NOT NULL REFERENCES workspaces (id),
    run_id                text NOT NULL REFERENCES runs (id),
    previous_response_id  text REFERENCES responses (id),
    -- The agent's name as the client gave it (the response's model).
    model                 text NOT NULL,
    -- false: the response is journaled as a run, but not retrievable as a response nor continued.
    store                 boolean NOT NULL,
    instructions          text,
    -- The response shows the run's steps from this index on (0 unless it continues a run).
    first_step            int NOT NULL,
    -- Set when a later response answered this one's run: the response as it was answered, which
    -- the run's further steps (the later response's) no longer change.
    answered              jsonb,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX responses_run ON responses (run_id);
