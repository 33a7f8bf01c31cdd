-- load_pending(batch_size): drains what is pending, one transaction per batch, for DBAs in psql and for pg_cron
-- (a single `call load_pending(100)` per job: pg_cron runs a job's text as one transaction only when it holds
-- several statements, and a COMMIT inside would then fail).
-- It stops at the first batch that takes nothing, so documents held back by an older open transaction (see
-- load_next_batch) end the call instead of spinning on it; the next call takes them.
-- CALL it outside a transaction block: it commits after every batch.
-- A procedure that commits may have no SET clause, so instead of a pinned search_path every name is qualified.
create or replace procedure public.load_pending(p_batch_size integer default 100)
    language plpgsql
as $$
declare
    v_batch test_mv.load_batches;
begin
    loop
        v_batch := test_mv.load_next_batch(p_batch_size);
        exit when v_batch.batch_id is null;
        commit;
    end loop;
end
$$;

revoke all on procedure public.load_pending(integer) from public;
