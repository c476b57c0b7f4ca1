-- The hottest tables check what they hold where it is written, not on every row version.
--
-- A CHECK constraint is evaluated on every insert and every update of a row, whatever the update
-- changes, and PostgreSQL reads and plans its expression again for every statement: a run's row
-- is updated at each of its steps (its counters and its write token) and a step's row three times,
-- and each paid for the check of a column it did not touch. A domain's check runs only where a
-- value of the domain is assigned (an insert, or an update that sets the column), from a form the
-- server keeps. The same values are accepted and refused as before.
--
-- The domains get their checks only after the columns have them as types: a column changed to a
-- domain without a check is not copied (its type is the same text), whereas one with a check would
-- copy the whole table and rebuild all its indexes under an exclusive lock. Validating a check
-- added NOT VALID reads the rows once without that.
CREATE DOMAIN run_status AS text;
CREATE DOMAIN run_step_type AS text;
CREATE DOMAIN message_role AS text;

ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ALTER COLUMN status TYPE run_status;
ALTER TABLE run_steps DROP CONSTRAINT run_steps_type_check;
ALTER TABLE run_steps ALTER COLUMN type TYPE run_step_type;
ALTER TABLE messages DROP CONSTRAINT messages_role_check;
ALTER TABLE messages ALTER COLUMN role TYPE message_role;

ALTER DOMAIN run_status ADD CONSTRAINT run_status_check
    CHECK (VALUE IN ('queued', 'running', 'requires_action', 'waiting', 'completed', 'failed', 'cancelled')) NOT VALID;
ALTER DOMAIN run_status VALIDATE CONSTRAINT run_status_check;
ALTER DOMAIN run_step_type ADD CONSTRAINT run_step_type_check CHECK (VALUE IN ('llm_call', 'tool_call')) NOT VALID;
ALTER DOMAIN run_step_type VALIDATE CONSTRAINT run_step_type_check;
ALTER DOMAIN message_role ADD CONSTRAINT message_role_check CHECK (VALUE IN ('user', 'assistant', 'tool')) NOT VALID;
ALTER DOMAIN message_role VALIDATE CONSTRAINT message_role_check;

-- A run and its conversation no longer check their workspace (nor a run its conversation) on
-- insert: the check took a shared lock on the workspace's row from every run created in it, the
-- same row for all of them. Workspaces and conversations are never deleted, and a run's
-- conversation is created in the run's own transaction or read there first, so the check could
-- only ever pass (as for the journal's rows, see V20).
ALTER TABLE runs DROP CONSTRAINT runs_workspace_id_fkey;
ALTER TABLE runs DROP CONSTRAINT runs_conversation_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_workspace_id_fkey;
