-- prune_landing(older_than, ...): retention. Removes the landing rows of documents that have their outcome (taken
-- by the loader: at or before their lane's position) and were landed before now() - older_than, in short
-- transactions of batch_size rows, walking each lane's index from its start; never a pending document. It takes
-- no lock the loader takes (it reads the positions, never locks them: a position only moves forward, so what was
-- taken stays taken), and producers only insert: neither waits for it. Optionally, with their own cutoffs, the run history
-- (load_batches, run_checks, failed_runs) and the records of duplicates whose landing row is gone.
-- What stays: clients keep each document's key (document_key), and the removal keeps each loaded document's digest
-- (test_mv.pruned_documents, V012), so that a twin of a pruned document is still found a duplicate, and a document
-- that merely shares its key is not; load_errors keeps each rejected document.
-- verify reports the documents of pruned landing rows as not checkable (test_mv.pruned_ranges), not as differences.
-- The measured choice of batched DELETE over a landing table partitioned by landing time: docs/retention.md.

-- prune_next_batch(lane, after_xid, after_id, cutoff, batch_size): the next batch_size documents of the lane past
-- (after_xid, after_id) in its order, up to the lane's position (taken: each has its outcome); removes the landing
-- rows among them landed before cutoff. Returns how many it removed and where the next batch starts (null when it
-- reached the lane's position). The lane index serves the walk (V011).
create or replace function test_mv.prune_next_batch(p_lane integer, p_after_xid xid8, p_after_id bigint,
                                                    p_cutoff timestamptz, p_batch_size integer,
                                                    out pruned integer, out next_xid xid8, out next_id bigint)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    set enable_seqscan = off
as $$
declare
    v_position record;
    v_from     bigint;
    v_to       bigint;
begin
    select m.last_xid, m.last_request_id into strict v_position from test_mv.load_metadata m where m.lane = p_lane;
    with chosen as materialized (
        select s.id, s.landed_xid, s.landed_at
          from public.fake_json_request s
         where test_mv.document_lane(s.document_key) = p_lane
           and (s.landed_xid, s.id) > (p_after_xid, p_after_id)
           and (s.landed_xid, s.id) <= (v_position.last_xid, v_position.last_request_id)
         order by s.landed_xid, s.id
         limit p_batch_size
    ),
    removed as (
        delete from public.fake_json_request s
         using chosen c
         where s.id = c.id and c.landed_at < p_cutoff
        returning s.id
    )
    select (select count(*) from removed)::integer, (select min(x.id) from removed x), (select max(x.id) from removed x),
           (select c.landed_xid from chosen c order by c.landed_xid desc, c.id desc limit 1),
           (select c.id from chosen c order by c.landed_xid desc, c.id desc limit 1)
      into pruned, v_from, v_to, next_xid, next_id;
    if pruned > 0 then
        insert into test_mv.pruned_ranges (from_id, to_id, documents) values (v_from, v_to, pruned);
        update test_mv.load_control set pruned_documents = pruned_documents + pruned;
    end if;
end
$$;

-- prune_history_batch(cutoff, batch_size): removes up to batch_size batches of the run history started before
-- cutoff, and the checks, failed runs and checked edits recorded before it; returns how many rows it removed.
create or replace function test_mv.prune_history_batch(p_cutoff timestamptz, p_batch_size integer)
    returns integer
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_batches integer;
    v_checks  integer;
    v_runs    integer;
    v_changes integer;
begin
    delete from test_mv.load_batches b
     where b.batch_id in (select o.batch_id from test_mv.load_batches o where o.started_at < p_cutoff
                           order by o.started_at limit p_batch_size);
    get diagnostics v_batches = row_count;
    delete from test_mv.run_checks c
     where c.check_id in (select o.check_id from test_mv.run_checks o where o.checked_at < p_cutoff
                           order by o.check_id limit p_batch_size);
    get diagnostics v_checks = row_count;
    delete from test_mv.failed_runs f
     where f.failure_id in (select o.failure_id from test_mv.failed_runs o where o.failed_at < p_cutoff
                             and o.failure_id is distinct from (select h.last_failure_id from test_mv.run_health h)
                           order by o.failure_id limit p_batch_size);
    get diagnostics v_runs = row_count;
    -- The record of edits by hand that a check took in (V015); unchecked ones stay until a check takes them.
    delete from test_mv.changed_documents d
     where d.change_id in (select o.change_id from test_mv.changed_documents o
                            where o.changed_at < p_cutoff and o.checked_by is not null
                            order by o.change_id limit p_batch_size);
    get diagnostics v_changes = row_count;
    return v_batches + v_checks + v_runs + v_changes;
end
$$;

-- prune_duplicates_batch(after_id, cutoff_batch_id, batch_size): removes up to batch_size records of duplicates
-- past request id after_id, decided by a batch before cutoff_batch_id, whose landing row is gone; returns how many
-- and the last request id looked at (null at the end).
create or replace function test_mv.prune_duplicates_batch(p_after_id bigint, p_cutoff_batch_id bigint,
                                                          p_batch_size integer,
                                                          out pruned integer, out next_id bigint)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    with chosen as materialized (
        select d.request_id, d.batch_id
          from test_mv.load_duplicates d
         where d.request_id > p_after_id
         order by d.request_id
         limit p_batch_size
    ),
    removed as (
        delete from test_mv.load_duplicates d
         using chosen c
         where d.request_id = c.request_id and c.batch_id < p_cutoff_batch_id
           and not exists (select 1 from public.fake_json_request s where s.id = c.request_id)
        returning 1
    )
    select (select count(*) from removed)::integer, (select max(c.request_id) from chosen c) into pruned, next_id;
end
$$;

-- CALL it outside a transaction block: it commits after every batch (so it has no SET clause; every name is
-- qualified instead). Each cutoff is an interval before now(); null keeps those rows.
create or replace procedure public.prune_landing(p_older_than interval,
                                                 p_history_older_than interval default null,
                                                 p_duplicates_older_than interval default null,
                                                 p_batch_size integer default 10000)
    language plpgsql
as $$
declare
    v_cutoff   timestamptz;
    v_xid      xid8   := '0'::xid8;
    v_id       bigint := 0::bigint;
    v_batch    record;
    v_landing  bigint := 0::bigint;
    v_history  bigint := 0::bigint;
    v_twins    bigint := 0::bigint;
    v_removed  integer;
    v_batch_id bigint;
begin
    if p_older_than is null or p_older_than < interval '0' then
        raise exception 'prune_landing: give how old a landing row must be to go, as an interval (not %)',
            coalesce(p_older_than::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL prune_landing(interval ''30 days'').';
    end if;
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'prune_landing: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    v_cutoff := now() - p_older_than;
    for v_lane in 0..15 loop
        v_xid := '0'::xid8;
        v_id := 0::bigint;
        loop
            select * into v_batch from test_mv.prune_next_batch(v_lane, v_xid, v_id, v_cutoff, p_batch_size);
            exit when v_batch.next_id is null;
            v_landing := v_landing + v_batch.pruned::bigint;
            v_xid := v_batch.next_xid;
            v_id := v_batch.next_id;
            commit;
        end loop;
    end loop;
    if p_duplicates_older_than is not null then
        v_batch_id := coalesce((select min(b.batch_id) from test_mv.load_batches b
                                 where b.started_at >= now() - p_duplicates_older_than),
                               (select coalesce(max(b.batch_id), 0) + 1 from test_mv.load_batches b));
        v_id := 0::bigint;
        loop
            select * into v_batch from test_mv.prune_duplicates_batch(v_id, v_batch_id, p_batch_size);
            exit when v_batch.next_id is null;
            v_twins := v_twins + v_batch.pruned::bigint;
            v_id := v_batch.next_id;
            commit;
        end loop;
    end if;
    if p_history_older_than is not null then
        loop
            v_removed := test_mv.prune_history_batch(now() - p_history_older_than, p_batch_size);
            exit when v_removed = 0;
            v_history := v_history + v_removed::bigint;
            commit;
        end loop;
    end if;
    raise notice 'pruned % landing row(s) landed before %, % record(s) of duplicates, % row(s) of run history',
        v_landing, date_trunc('second', v_cutoff), v_twins, v_history;
end
$$;

revoke all on function test_mv.prune_next_batch(integer, xid8, bigint, timestamptz, integer) from public;

-- Before lanes, prune_next_batch walked one position: (after_xid, after_id, cutoff, batch_size). The roles that were
-- granted it (the README's operator) keep their right on the lanes' one, so that an upgrade does not stop pruning;
-- then the old one goes.
do $$
declare
    v_old     regprocedure := to_regprocedure('test_mv.prune_next_batch(xid8, bigint, timestamptz, integer)');
    v_grantee text;
begin
    if v_old is null then
        return;
    end if;
    for v_grantee in
        select r.rolname
          from pg_catalog.pg_proc p
         cross join lateral pg_catalog.aclexplode(p.proacl) a
          join pg_catalog.pg_roles r on r.oid = a.grantee
         where p.oid = v_old and a.privilege_type = 'EXECUTE'
    loop
        execute format('grant execute on function test_mv.prune_next_batch(integer, xid8, bigint, timestamptz, integer) to %I',
                       v_grantee);
    end loop;
    execute 'drop function ' || v_old::text;
end
$$;
revoke all on function test_mv.prune_history_batch(timestamptz, integer) from public;
revoke all on function test_mv.prune_duplicates_batch(bigint, bigint, integer) from public;
revoke all on procedure public.prune_landing(interval, interval, interval, integer) from public;
