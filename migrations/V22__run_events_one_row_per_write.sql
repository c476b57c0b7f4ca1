-- The events a transaction appends to a run are stored in one row: their types, and their data as
-- one JSON array, numbered from first_id. A step appends two or three events; storing each in a
-- row of its own cost a heap tuple and an index entry apiece, on the table written most. Readers
-- see one row per event, as before, through the view run_events.
CREATE TABLE run_event_batches (
    run_id      text NOT NULL,
    first_id    bigint NOT NULL,
    types       text[] NOT NULL,
    data        jsonb NOT NULL CHECK (jsonb_typeof(data) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, first_id)
);

INSERT INTO run_event_batches (run_id, first_id, types, data, created_at)
SELECT run_id, id, ARRAY[type], jsonb_build_array(data), created_at FROM run_events;

DROP TABLE run_events;

CREATE VIEW run_events AS
SELECT b.run_id, b.first_id + e.ord - 1 AS id, b.types[e.ord] AS type, e.data, b.created_at
FROM run_event_batches b
CROSS JOIN LATERAL jsonb_array_elements(b.data) WITH ORDINALITY AS e(data, ord);
