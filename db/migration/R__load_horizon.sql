-- load_horizon(): the landing transaction id below which every landed row is visible now and forever, so that a
-- batch may take it without a row ever appearing behind the position later (a slow producer).
--
-- It is the oldest transaction still running that may have landed a document here: the snapshot's in-progress
-- transactions, less those known to run in another database (a transaction, like its backend, belongs to one
-- database, so it cannot write to this one's landing table); with none, the snapshot's xmax. The snapshot's xmin,
-- the simpler bound, would also wait for writers in every other database of the server.
-- Unknown means ours: a transaction that ended between the snapshot and the look at pg_stat_activity, a prepared
-- transaction (it has no session), or one whose backend_xid this role may not see keeps the horizon below it, so
-- the rows behind it wait for the next batch rather than risk being passed.
-- PL/pgSQL rather than SQL: a SQL function's query would be planned again at every call (its price:
-- docs/profiling.md, Figures behind the routines' comments).
create or replace function test_mv.load_horizon()
    returns xid8
    language plpgsql
    stable
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_snapshot pg_snapshot := pg_current_snapshot();
begin
    -- Nothing running (the usual case between producers' commits, and then the query below would say the same):
    -- the snapshot's xmax, without starting that query, which costs more than everything else in this function.
    if pg_snapshot_xmin(v_snapshot) = pg_snapshot_xmax(v_snapshot) then
        return pg_snapshot_xmax(v_snapshot);
    end if;
    return coalesce((select min(running.xid)
                       from pg_snapshot_xip(v_snapshot) as running(xid)
                      where not exists (select 1
                                          from pg_catalog.pg_stat_activity a
                                         where a.backend_xid = running.xid::xid
                                           and a.datname <> current_database())),
                    pg_snapshot_xmax(v_snapshot));
end
$$;
