-- What a tool call was when it started executing: its kind, whether it was idempotent, and for an
-- http tool the method and URL template. After a crash, whether the call may be executed again is
-- decided from this record, not from the tool's definition as it is by then.
ALTER TABLE run_steps ADD COLUMN executed_as jsonb;

-- The token of the last fenced write of the run: a writer whose connection broke while its
-- commit was on the way reads it to learn whether the commit landed, so as not to write twice.
ALTER TABLE runs ADD COLUMN last_write bigint;
