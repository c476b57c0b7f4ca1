-- The fence of a journal write, sent with the write itself: locks the run's row and checks that
-- the writer still holds its lease, or fails the transaction. A writer that must not go on when
-- the lease has expired or a cancel has arrived asks for that too; it then learns why its
-- transaction failed from the SQLSTATE and decides again after reading the row.
CREATE PROCEDURE journal_gate(p_run text, p_owner text, p_epoch bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT lease_owner, lease_epoch, coalesce(lease_expires_at > now(), false) AS live, cancel_requested
      INTO r FROM runs WHERE id = p_run FOR UPDATE;
    IF NOT FOUND OR r.lease_owner IS DISTINCT FROM p_owner OR r.lease_epoch <> p_epoch THEN
        RAISE EXCEPTION 'the lease of run % is lost', p_run USING ERRCODE = 'AR001';
    END IF;
    IF NOT r.live OR r.cancel_requested THEN
        RAISE EXCEPTION 'run % needs a decision (lease expired or cancel requested)', p_run USING ERRCODE = 'AR002';
    END IF;
END
$$;
