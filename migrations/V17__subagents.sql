-- Sub-agents: an agent may call other agents of its workspace as tools. A call starts a child run
-- linked to the parent's step; the unique index makes the child's creation happen once per call.
ALTER TABLE agent_versions ADD COLUMN agents jsonb NOT NULL DEFAULT '[]';

ALTER TABLE runs ADD COLUMN parent_run_id text REFERENCES runs (id);
ALTER TABLE runs ADD COLUMN parent_step int;
ALTER TABLE runs ADD COLUMN depth int NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX runs_parent_step ON runs (parent_run_id, parent_step) WHERE parent_run_id IS NOT NULL;

-- A parent waiting for its children is active: it holds its conversation like any active run.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'running', 'requires_action', 'waiting', 'completed', 'failed', 'cancelled'));
DROP INDEX runs_one_active_per_conversation;
CREATE UNIQUE INDEX runs_one_active_per_conversation ON runs (conversation_id)
    WHERE status IN ('queued', 'running', 'requires_action', 'waiting');
