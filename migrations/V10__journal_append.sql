-- A step's fence and its events in one statement: the update of the run's row that numbers the
-- events (and adds the step's counts) is the fence. It only matches while the writer holds the
-- lease, the lease is unexpired and no cancel has arrived; otherwise the transaction fails, and
-- the SQLSTATE says why, as journal_gate's did: AR001 for a lost lease, AR002 when the step must be
-- decided again after reading the row. One row version per step instead of a lock and an update.
CREATE PROCEDURE journal_append(p_run text, p_owner text, p_epoch bigint, p_steps integer,
    p_prompt integer, p_completion integer, p_total integer, p_types text[], p_data text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_types), 0);
    last bigint;
BEGIN
    UPDATE runs SET last_event_id = last_event_id + n, steps_count = steps_count + p_steps,
           prompt_tokens = prompt_tokens + p_prompt, completion_tokens = completion_tokens + p_completion,
           total_tokens = total_tokens + p_total
     WHERE id = p_run AND lease_owner = p_owner AND lease_epoch = p_epoch
       AND lease_expires_at > now() AND NOT cancel_requested
    RETURNING last_event_id INTO last;
    IF NOT FOUND THEN
        PERFORM 1 FROM runs WHERE id = p_run AND lease_owner = p_owner AND lease_epoch = p_epoch;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the lease of run % is lost', p_run USING ERRCODE = 'AR001';
        END IF;
        RAISE EXCEPTION 'run % needs a decision (lease expired or cancel requested)', p_run USING ERRCODE = 'AR002';
    END IF;
    IF n > 0 THEN
        INSERT INTO run_events (run_id, id, type, data)
        SELECT p_run, last - n + e.ord, e.type, cast(e.data AS jsonb)
          FROM unnest(p_types, p_data) WITH ORDINALITY AS e(type, data, ord);
    END IF;
END
$$;

-- journal_gate stays: a node still running the previous version keeps its fence while the nodes
-- of a cluster are upgraded one by one.
