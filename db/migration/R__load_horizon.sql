-- The horizon: the landing transaction id below which every landed row is visible now and forever, so that a batch
-- may take it without a row ever appearing behind the position later (a slow producer). It is the oldest
-- transaction still running that may land a document here: one that holds the landing marker (V013), or one whose
-- state is not known for sure. A transaction running without the marker, of any role, on any table of any
-- database, is passed; the fences (V013) keep it from landing behind a position later.

-- horizon_of(snapshot): the horizon as a snapshot sees it: the oldest of its running transactions that is not seen,
-- now, still running without the marker; with none, the snapshot's xmax. A transaction that ended since the
-- snapshot counts as landing (its rows may be invisible to a batch in the snapshot of a repeatable-read caller), so
-- an answer is never too high, only sometimes a batch too low. A prepared transaction keeps its locks, so it counts
-- as landing exactly when it landed.
-- PL/pgSQL rather than SQL: a SQL function's query would be planned again at every call (its price:
-- docs/profiling.md, Figures behind the routines' comments).
create or replace function test_mv.horizon_of(p_snapshot pg_snapshot)
    returns xid8
    language plpgsql
    stable
    set search_path = pg_catalog, pg_temp
as $$
begin
    -- Nothing running (the usual case between producers' commits): the snapshot's xmax, without reading the lock
    -- table, which costs more than everything else in this function.
    if pg_snapshot_xmin(p_snapshot) = pg_snapshot_xmax(p_snapshot) then
        return pg_snapshot_xmax(p_snapshot);
    end if;
    -- The lock table read once: every running transaction holds a lock on its own id, and a landing one also holds
    -- the marker, under the same virtual transaction.
    return coalesce((with locks as materialized (
                         select l.locktype, l.transactionid, l.virtualtransaction
                           from pg_catalog.pg_locks l
                          where l.granted
                            and (l.locktype = 'transactionid'
                                 or l.locktype = 'relation' and l.relation = 'test_mv.landing_in_progress'::regclass
                                    and l.database = (select d.oid from pg_database d
                                                       where d.datname = current_database())))
                     select min(running.xid)
                       from pg_snapshot_xip(p_snapshot) as running(xid)
                      where not exists (select 1
                                          from locks t
                                         where t.locktype = 'transactionid' and t.transactionid = running.xid::xid
                                           and not exists (select 1 from locks m
                                                            where m.locktype = 'relation'
                                                              and m.virtualtransaction = t.virtualtransaction))),
                    pg_snapshot_xmax(p_snapshot));
end
$$;

-- load_horizon(): the horizon now; what status counts the documents that wait against.
create or replace function test_mv.load_horizon()
    returns xid8
    language sql
    stable
    set search_path = pg_catalog, pg_temp
as $$
    select test_mv.horizon_of(pg_current_snapshot())
$$;

-- fence_lane(lane, snapshot, horizon): what a batch of the lane may take up to, given the horizon its snapshot
-- showed; called with the lane locked. When the horizon passes a running transaction (it is above the snapshot's
-- oldest), the lane's fence is raised to it first, so that the passed transaction can no longer land (admit_landing
-- refuses it), and the lock table is read again: a transaction that took the marker before the fence was raised is
-- now seen, and the horizon stays below it. One caller at a time raises a lane's fence, so it only ever rises.
create or replace function test_mv.fence_lane(p_lane integer, p_snapshot pg_snapshot, p_horizon xid8)
    returns xid8
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_fence regclass := ('test_mv.lane_fence_' || p_lane)::regclass;
begin
    if p_horizon <= pg_snapshot_xmin(p_snapshot) then
        return p_horizon; -- it passes no one
    end if;
    if coalesce(pg_sequence_last_value(v_fence), 0) < p_horizon::text::bigint then
        perform setval(v_fence, p_horizon::text::bigint);
    end if;
    return least(p_horizon, test_mv.horizon_of(p_snapshot));
end
$$;

-- admit_landing(): the landing table's trigger, before every INSERT or COPY statement (V013). It takes the marker,
-- so that from now until the transaction ends the horizon waits for it, and gives the transaction its xid now, above
-- every horizon already taken, if it had none: nothing can have passed it. A transaction that had an xid (it wrote
-- something before its first landing) may have been passed while it held no marker; then its documents would land
-- behind a lane's position and never load, so the statement is refused, with nothing landed, and the transaction is
-- to be retried (it gets a new xid). The fences are read after the marker is held: a batch that raised one after
-- that sees the marker.
-- The later statements of an admitted transaction skip all that: the admission is noted in a transaction-local
-- setting, which, like the lock on the marker, is undone when a savepoint around the admission is rolled back. (A
-- session may set the note itself: it then skips the check, and only its own documents may be left behind.)
-- It runs once a landing statement, so it is written for its price (a tenth of a one-row INSERT, docs/profiling.md):
-- no SET clause (every name is qualified instead, operators too, so that no search path of the caller's can put
-- another function under its owner's rights), and plain assignments, which PL/pgSQL evaluates without a query.
create or replace function test_mv.admit_landing()
    returns trigger
    language plpgsql
    security definer
as $$
declare
    v_xid    pg_catalog.xid8 := pg_catalog.pg_current_xact_id_if_assigned();
    v_passed pg_catalog.int8;
begin
    if v_xid is not null
       and pg_catalog.current_setting('incremental_loader.admitted_xid', true) operator(pg_catalog.=) v_xid::pg_catalog.text then
        return null;
    end if;
    lock table test_mv.landing_in_progress in row exclusive mode;
    if v_xid is null then
        v_xid := pg_catalog.pg_current_xact_id();
    else
        select pg_catalog.max(f.last_value) into v_passed from test_mv.lane_fences f;
        if v_passed operator(pg_catalog.>) v_xid::pg_catalog.text::pg_catalog.int8 then
            raise exception 'fake_json_request: this transaction (xid %) wrote before its first landing and the loader has since passed it, so its documents would never load; nothing was landed', v_xid
                using errcode = 'serialization_failure',
                      hint = 'Retry the transaction. To avoid this, land documents first in a transaction, or in one of their own.';
        end if;
    end if;
    -- The note, as a condition rather than a PERFORM: an expression, evaluated without a query.
    if pg_catalog.set_config('incremental_loader.admitted_xid', v_xid::pg_catalog.text, true) is not null then
        return null;
    end if;
    return null;
end
$$;
revoke all on function test_mv.admit_landing() from public;
revoke all on function test_mv.fence_lane(integer, pg_snapshot, xid8) from public;
