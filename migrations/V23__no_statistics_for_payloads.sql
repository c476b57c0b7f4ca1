-- ANALYZE keeps statistics only for columns a query filters, joins or groups on. The journal's
-- payloads (requests, responses, results, event data, message texts, audit details) are read
-- whole by key and never filtered on, yet autovacuum's ANALYZE of these busy tables sampled,
-- sorted and compared their values every time: a measured twentieth of the database's CPU under
-- load. A statistics target of 0 skips them; the planner's estimates for the columns it uses do
-- not change. (The usage report groups on request->>'model', an expression these statistics never
-- described.)
ALTER TABLE run_steps
    ALTER COLUMN request SET STATISTICS 0,
    ALTER COLUMN response SET STATISTICS 0,
    ALTER COLUMN usage SET STATISTICS 0,
    ALTER COLUMN attempts SET STATISTICS 0,
    ALTER COLUMN arguments SET STATISTICS 0,
    ALTER COLUMN result SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0,
    ALTER COLUMN executed_as SET STATISTICS 0,
    ALTER COLUMN decision_reason SET STATISTICS 0,
    ALTER COLUMN idempotency_key SET STATISTICS 0;

ALTER TABLE run_event_batches
    ALTER COLUMN types SET STATISTICS 0,
    ALTER COLUMN data SET STATISTICS 0;

ALTER TABLE messages
    ALTER COLUMN content SET STATISTICS 0,
    ALTER COLUMN tool_calls SET STATISTICS 0;

ALTER TABLE audit_log
    ALTER COLUMN details SET STATISTICS 0;

ALTER TABLE runs
    ALTER COLUMN system_prompt SET STATISTICS 0,
    ALTER COLUMN output SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0,
    ALTER COLUMN required_action SET STATISTICS 0,
    ALTER COLUMN agent_overrides SET STATISTICS 0,
    ALTER COLUMN client_tools SET STATISTICS 0,
    ALTER COLUMN trace_context SET STATISTICS 0;
