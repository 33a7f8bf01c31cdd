-- record_run_check(first_batch_id, last_batch_id, last_change_id, changed_documents, seconds, verdict): what the
-- service found when it checked a run (verify.RunCheck), kept in test_mv.run_checks; the changed documents it took
-- in (test_mv.changed_documents up to last_change_id) are forgotten, checked. Security definer like
-- load_next_batch, so that the service's role writes no table; granted, never to PUBLIC. Returns the check's id.
-- PL/pgSQL, not SQL, so that its body is not resolved at creation: repeatable migrations also run on a database
-- migrated to a version before V007's tables (MigrationUpgradeTest does).
create or replace function test_mv.record_run_check(p_first_batch_id bigint, p_last_batch_id bigint,
                                                    p_last_change_id bigint, p_changed_documents integer,
                                                    p_seconds numeric, p_verdict text)
    returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_check_id bigint;
begin
    delete from test_mv.changed_documents where change_id <= p_last_change_id;
    insert into test_mv.run_checks (caller, first_batch_id, last_batch_id, changed_documents, seconds, verdict)
    values (coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid ' || pg_backend_pid() || ')',
            p_first_batch_id, p_last_batch_id, p_changed_documents, p_seconds, left(p_verdict, 4000))
    returning check_id into v_check_id;
    return v_check_id;
end
$$;

revoke all on function test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text) from public;
