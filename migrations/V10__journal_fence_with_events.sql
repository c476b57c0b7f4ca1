-- A step's fence travels with its events: the update of the run's row that numbers the events (and
-- adds the step's counts) matches only while the writer holds the lease, the lease is unexpired
-- and no cancel has arrived. When it matches nothing, the statement calls this function, which
-- fails the transaction with the SQLSTATE that says why, as journal_gate does: AR001 for a lost
-- lease, AR002 when the step must be decided again after reading the row.
CREATE FUNCTION journal_fence_failed(p_run text, p_owner text, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM runs WHERE id = p_run AND lease_owner = p_owner AND lease_epoch = p_epoch;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the lease of run % is lost', p_run USING ERRCODE = 'AR001';
    END IF;
    RAISE EXCEPTION 'run % needs a decision (lease expired or cancel requested)', p_run USING ERRCODE = 'AR002';
END
$$;

-- journal_gate stays: a node still running the previous version keeps its fence while the nodes
-- of a cluster are upgraded one by one.
