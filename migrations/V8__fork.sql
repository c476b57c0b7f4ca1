-- Forked runs: a run that starts from a copy of another run's journal, with its own overrides of
-- the agent's configuration (the agent itself is not changed).

ALTER TABLE runs
    ADD COLUMN forked_from_run_id  text,
    ADD COLUMN forked_from_step    int,
    -- A JSON Merge Patch over the pinned agent version (system_prompt, model, tools, …); null when none.
    ADD COLUMN agent_overrides     jsonb;

-- Set on the steps a fork copied from its origin (they were executed, and paid for, by that run).
ALTER TABLE run_steps
    ADD COLUMN copied_from_run_id  text;
