-- What status shows and what the loader's messages say, written once, here, beside the rules they report on
-- (load_horizon, load_next_batch's lock on the position); the Java service reads them through jOOQ's generated
-- routines. Readable by every role that may read the tables (pg_locks and the columns of pg_stat_activity used
-- here are visible to all; what is hidden shows as such).

-- A session as people are told of it: pid, application, state, since when its transaction is open.
create or replace function test_mv.describe_session(p_pid integer)
    returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select format('pid %s (%s, %s, transaction open since %s)', a.pid,
                  coalesce(nullif(a.application_name, ''), 'unnamed'), coalesce(a.state, 'state hidden'),
                  coalesce(date_trunc('second', a.xact_start)::text, 'a time hidden'))
      from pg_stat_activity a
     where a.pid = p_pid
$$;

-- lanes(): each lane (V011) with its backlog: documents landed past the lane's position; whether that figure is
-- exact; how many of them wait for an older open transaction (they are at or past load_horizon(), the bound a batch
-- takes up to); when the oldest was landed; and the lane's position. A lane's backlog is counted, in its order, up
-- to 1,000 documents; past that it is estimated as the lane's share (a sixteenth) of the ids the landing sequence
-- handed out since the lane's first pending one (over by the ids of rolled-back landings), so that status and a
-- scrape cost the same whatever the backlog: 16,000 documents counted at most (counting costs ~1 ms a thousand).
-- waiting and oldest_landed_at are those of the documents counted. PL/pgSQL, as a repeatable naming a later column
-- must be (see R__redo_documents).
drop function if exists test_mv.lanes();
create function test_mv.lanes()
    returns table (lane integer, documents bigint, exact boolean, waiting bigint, oldest_landed_at timestamptz,
                   last_request_id bigint, updated_at timestamptz)
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    return query
    select m.lane,
           case when c.counted <= 1000 then c.counted
                else greatest(c.counted, ((select max(r.id) from public.fake_json_request r) - c.first_id + 1) / 16) end,
           c.counted <= 1000, c.waiting, c.oldest_landed_at, m.last_request_id, m.updated_at
      from test_mv.load_metadata m,
           -- Lateral, so that the lane and its position are the index scan's bounds (in a plain join the position
           -- was a filter after a scan of the index from its start). The horizon as a subquery, computed once (in
           -- FROM it was pulled up and computed for every document).
           lateral (select count(*) as counted,
                           count(*) filter (where n.landed_xid >= (select test_mv.load_horizon())) as waiting,
                           min(n.landed_at) as oldest_landed_at, min(n.id) as first_id
                      from (select r.id, r.landed_xid, r.landed_at
                              from public.fake_json_request r
                             where test_mv.document_lane(r.document_key) = m.lane
                               and (r.landed_xid, r.id) > (m.last_xid, m.last_request_id)
                             order by r.landed_xid, r.id
                             limit 1001) n) c
     order by m.lane;
end
$$;

-- pending(): the backlog of every lane together (lanes()): documents, whether exact, how many wait for an older
-- open transaction, and when the oldest was landed.
-- Changing its columns needs the old one dropped; nothing depends on it in the database, and EXECUTE stays PUBLIC's.
drop function if exists test_mv.pending();
create function test_mv.pending()
    returns table (documents bigint, exact boolean, waiting bigint, oldest_landed_at timestamptz)
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select sum(l.documents)::bigint, bool_and(l.exact), sum(l.waiting)::bigint, min(l.oldest_landed_at)
      from test_mv.lanes() l
$$;

-- holding_back(): the transaction pending documents wait for, the one at the horizon (load_horizon: the oldest
-- running transaction that has landed documents), and since when it is open; no row when none holds anything
-- back. A transaction that has just ended (the horizon counts it for one more look) shows as such.
drop function if exists test_mv.holding_back();
create function test_mv.holding_back()
    returns table (description text, since timestamptz)
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select coalesce(test_mv.describe_session(a.pid) || ' in database ' || a.datname,
                    'prepared transaction ' || quote_literal(p.gid) || ' of ' || p.owner,
                    'a transaction this role cannot see, or that has just ended (xid ' || h.horizon || ')'),
           coalesce(a.xact_start, p.prepared)
      from (select test_mv.load_horizon() as horizon) h
      left join pg_stat_activity a on a.backend_xid = h.horizon::xid and a.pid <> pg_backend_pid()
      left join pg_prepared_xacts p on p.transaction = h.horizon::xid
     where h.horizon < pg_snapshot_xmax(pg_current_snapshot())
$$;

-- held_back_by(): holding_back's description; null when nothing holds documents back.
create or replace function test_mv.held_back_by()
    returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select h.description from test_mv.holding_back() h limit 1
$$;

-- position_holders(): the sessions that hold a lock on a position (load_metadata), as one line; null for none.
create or replace function test_mv.position_holders()
    returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select string_agg(test_mv.describe_session(l.pid), '; ' order by l.pid)
      from pg_locks l
     where l.relation = 'test_mv.load_metadata'::regclass and l.granted and l.pid <> pg_backend_pid()
       and l.mode <> 'AccessShareLock' -- a reader of the positions holds nothing back
$$;

-- blocked_loaders(): the batches waiting for a position, and the sessions they wait for. A batch holds a lock on
-- load_metadata from its start; one that also waits for a lock is blocked, usually on a lane's row (a load never
-- waits for a lane, but reprocessing, reloading and rejecting by hand wait for every lane).
create or replace function test_mv.blocked_loaders()
    returns table (pid integer, application text, waiting_for text)
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select w.pid, coalesce(nullif(a.application_name, ''), 'unnamed'),
           (select string_agg(test_mv.describe_session(h.pid), '; ' order by h.pid)
              from unnest(pg_blocking_pids(w.pid)) as h(pid))
      from pg_locks w
      join pg_stat_activity a on a.pid = w.pid
     where w.relation = 'test_mv.load_metadata'::regclass and w.granted and w.pid <> pg_backend_pid()
       and exists (select 1 from pg_locks u where u.pid = w.pid and not u.granted)
     order by w.pid
$$;
