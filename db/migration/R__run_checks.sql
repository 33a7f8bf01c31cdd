-- record_run_check(first_batch_id, last_batch_id, last_change_id, changed_documents, seconds, verdict, snapshot):
-- what the service found when it checked a run (verify.RunCheck), kept in test_mv.run_checks. The changes it took
-- in are those of test_mv.changed_documents up to last_change_id that its snapshot saw (V015): they are marked as
-- checked by it; one that committed after that snapshot, whatever its id, waits for the next check. Security definer
-- like load_next_batch, so that the service's role writes no table; granted, never to PUBLIC. Returns the check's
-- id. PL/pgSQL, not SQL, so that its body is not resolved at creation: repeatable migrations also run on a database
-- migrated to a version before V007's tables (MigrationUpgradeTest does).
create or replace function test_mv.record_run_check(p_first_batch_id bigint, p_last_batch_id bigint,
                                                    p_last_change_id bigint, p_changed_documents integer,
                                                    p_seconds numeric, p_verdict text, p_snapshot text)
    returns bigint
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_check_id bigint;
begin
    insert into test_mv.run_checks (caller, first_batch_id, last_batch_id, changed_documents, seconds, verdict)
    values (coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid ' || pg_backend_pid() || ')',
            p_first_batch_id, p_last_batch_id, p_changed_documents, p_seconds, left(p_verdict, 4000))
    returning check_id into v_check_id;
    update test_mv.changed_documents c
       set checked_by = v_check_id
     where c.checked_by is null and c.change_id <= p_last_change_id
       and (c.changed_xid is null or pg_visible_in_snapshot(c.changed_xid, p_snapshot::pg_snapshot));
    return v_check_id;
end
$$;

-- The signature before V015: whoever could record checks with it (the README's loader role) can with the new one,
-- and the old one, which forgot changes its check had not seen, is gone.
do $$
declare
    v_grantee text;
begin
    if to_regprocedure('test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text)') is not null then
        for v_grantee in
            select distinct r.rolname
              from pg_proc p, aclexplode(p.proacl) a, pg_roles r
             where p.oid = 'test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text)'::regprocedure
               and a.privilege_type = 'EXECUTE' and a.grantee = r.oid and r.oid <> p.proowner
        loop
            execute format('grant execute on function test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text, text) to %I', v_grantee);
        end loop;
        drop function test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text);
    end if;
end
$$;

revoke all on function test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text, text) from public;
