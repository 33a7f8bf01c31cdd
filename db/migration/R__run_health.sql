-- record_run_failure(sqlstate, message) and record_run_success(): how the service's runs go (V008), written after
-- each run in a transaction of its own, since a failed batch rolls back. Security definer like load_next_batch, so
-- that the service's role writes no table; granted, never to PUBLIC. PL/pgSQL, so that the bodies are not resolved
-- on a database migrated to a version before V008 (repeatables run there too).

create or replace function test_mv.record_run_failure(p_sqlstate text, p_message text)
    returns integer
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_failure_id bigint;
    v_count      integer;
begin
    insert into test_mv.failed_runs (caller, sqlstate, message)
    values (coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid ' || pg_backend_pid() || ')',
            left(p_sqlstate, 5), left(coalesce(p_message, 'no message'), 2000))
    returning failure_id into v_failure_id;
    update test_mv.run_health
       set consecutive_failures = consecutive_failures + 1, last_failure_id = v_failure_id
    returning consecutive_failures into v_count;
    return v_count;
end
$$;

create or replace function test_mv.record_run_success()
    returns void
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    update test_mv.run_health set consecutive_failures = 0, last_success_at = now();
end
$$;

revoke all on function test_mv.record_run_failure(text, text) from public;
revoke all on function test_mv.record_run_success() from public;
