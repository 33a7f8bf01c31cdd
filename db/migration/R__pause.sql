-- pause_loading(reason) and resume_loading(): stopping every caller of the loader for a while (a migration
-- downstream, an incident) and starting them again. While paused, load_next_batch takes nothing and says why (a
-- NOTICE), so load_batch, load_pending, load, serve and pg_cron jobs all stop; a batch already running finishes.
-- Security definer, granted, never to PUBLIC: see the README's roles.

-- session_caller(): who calls, as people are told of it: the session's user, its application and pid.
create or replace function test_mv.session_caller()
    returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select session_user || ' (' || coalesce(nullif(current_setting('application_name'), ''), 'unnamed')
           || ', pid ' || pg_backend_pid() || ')'
$$;

create or replace procedure public.pause_loading(p_reason text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_control record;
begin
    if coalesce(btrim(p_reason), '') = '' then
        raise exception 'pause_loading: say why loading is paused; status shows it to everyone'
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL pause_loading(''downstream migration, until 18:00'').';
    end if;
    select * into strict v_control from test_mv.load_control for update;
    if v_control.paused_at is not null then
        raise notice 'loading was already paused since % by %: %; nothing changed', v_control.paused_at,
            v_control.paused_by, v_control.reason;
        return;
    end if;
    update test_mv.load_control
       set paused_at = now(), paused_by = test_mv.session_caller(), reason = left(p_reason, 1000);
    raise notice 'loading is paused: no caller takes a document until CALL resume_loading()';
end
$$;

create or replace procedure public.resume_loading()
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_control record;
begin
    select * into strict v_control from test_mv.load_control for update;
    if v_control.paused_at is null then
        raise notice 'loading was not paused; nothing changed';
        return;
    end if;
    update test_mv.load_control set paused_at = null, paused_by = null, reason = null;
    raise notice 'loading resumed (it was paused since % by %: %)', v_control.paused_at, v_control.paused_by,
        v_control.reason;
end
$$;

revoke all on procedure public.pause_loading(text) from public;
revoke all on procedure public.resume_loading() from public;
