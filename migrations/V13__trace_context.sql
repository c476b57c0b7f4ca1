-- The W3C traceparent of a run's trace, written when the run begins (null when tracing is off).
-- A node that resumes the run later (after an approval, client tool outputs or a crash) continues
-- that trace, so one run is one trace however many nodes executed it.
ALTER TABLE runs ADD COLUMN trace_context text;
