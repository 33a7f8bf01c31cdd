-- Only a transaction that may land documents may hold loading back. Until now the horizon (load_horizon) waited for
-- every transaction of the database that had an xid: any role that can connect, with no grant at all, held every
-- new document back for as long as it liked (begin; select pg_current_xact_id(); ...), and so did an application's
-- long write transaction on its own tables.
--
-- Now a transaction says that it lands documents: every INSERT or COPY into the landing table first takes a ROW
-- EXCLUSIVE lock on the marker below (the trigger's function, admit_landing, runs after the statement's privileges
-- were checked), and the horizon waits only for transactions holding it. The marker is a view of nothing: a lock
-- that no one without a grant on it can take (LOCK TABLE checks privileges, and there are none; the view cannot be
-- written, so no statement prepared against it holds it either), that VACUUM and ANALYZE never touch, that landing
-- transactions share without waiting for each other, and that the lock manager takes on its fast path.
--
-- And nothing is lost on the other side: a transaction the loader passed (it had an xid and no lock on the marker
-- when a batch looked) could land documents later, behind the lane's position. So a batch that passes a transaction
-- first records how far it went in its lane's fence (lane_fence_N, a sequence: its value is seen by every session at
-- once, committed or not), then looks again; and a landing statement of a transaction that already had an xid, once
-- it holds the marker, is refused (SQLSTATE 40001, retry) when a fence is past that xid (R__load_horizon.sql).
create view test_mv.landing_in_progress as select;
comment on view test_mv.landing_in_progress is
    'A marker, never read: a transaction that lands documents holds a ROW EXCLUSIVE lock on it until it ends (admit_landing), '
    'and only such a transaction holds loading back (load_horizon).';
revoke all on test_mv.landing_in_progress from public;

do $$
begin
    for l in 0..15 loop
        execute format('create sequence test_mv.lane_fence_%s as bigint minvalue 0 start 0', l);
        execute format('comment on sequence test_mv.lane_fence_%s is %L', l,
                       'How far a batch of lane ' || l || ' has passed transactions that were not landing (an xid): a '
                       'landing statement of a transaction below it that had an xid before is refused (admit_landing).');
    end loop;
end
$$;

-- The fences together, for admit_landing; the highest one is all it needs.
create view test_mv.lane_fences as
select 0 as lane, last_value from test_mv.lane_fence_0 union all select 1, last_value from test_mv.lane_fence_1
union all select 2, last_value from test_mv.lane_fence_2 union all select 3, last_value from test_mv.lane_fence_3
union all select 4, last_value from test_mv.lane_fence_4 union all select 5, last_value from test_mv.lane_fence_5
union all select 6, last_value from test_mv.lane_fence_6 union all select 7, last_value from test_mv.lane_fence_7
union all select 8, last_value from test_mv.lane_fence_8 union all select 9, last_value from test_mv.lane_fence_9
union all select 10, last_value from test_mv.lane_fence_10 union all select 11, last_value from test_mv.lane_fence_11
union all select 12, last_value from test_mv.lane_fence_12 union all select 13, last_value from test_mv.lane_fence_13
union all select 14, last_value from test_mv.lane_fence_14 union all select 15, last_value from test_mv.lane_fence_15;

-- The trigger is made here; what its function does is the repeatable R__load_horizon's (admit_landing), which
-- replaces this stand-in right after this migration. Until then it refuses every landing, so that no document lands
-- unmarked if that repeatable fails.
-- (Made only when missing: on a database whose repeatables ran at an earlier version, the real one is there already.)
do $do$
begin
    if to_regprocedure('test_mv.admit_landing()') is null then
        create function test_mv.admit_landing()
            returns trigger
            language plpgsql
            security definer
            set search_path = pg_catalog, pg_temp
        as $$
        begin
            raise exception 'fake_json_request: the loader''s migration is incomplete; nothing was landed'
                using errcode = 'object_not_in_prerequisite_state', hint = 'Run incremental-loader migrate, then land again.';
        end
        $$;
    end if;
end
$do$;
revoke all on function test_mv.admit_landing() from public;

create trigger tr_fake_json_request_admit
    before insert on public.fake_json_request
    for each statement execute function test_mv.admit_landing();
