-- The data's lifecycle on Citus (pause and resume work unchanged: load_control is a reference table): reprocessing,
-- reloading, rejecting by hand and retention, each done a lane at a time, every statement naming the lane so that
-- Citus sends it to the worker that holds the lane. The procedures keep the single server's names and arguments
-- (R__reprocess_and_reject, R__reload, R__prune), so that the commands and a DBA's CALLs are the same.

-- remove_child_rows_in_lane(lane, ids): deletes the phones, addresses and products of the lane's loaded documents
-- ids (R__redo_documents' remove_child_rows, by client_id within the lane's shards).
create or replace function test_mv.remove_child_rows_in_lane(p_lane integer, p_ids bigint[])
    returns void
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    delete from test_mv.phones p where p.lane = p_lane and p.client_id = any(p_ids);
    delete from test_mv.addresses a where a.lane = p_lane and a.client_id = any(p_ids);
    delete from test_mv.products r where r.lane = p_lane and r.client_id = any(p_ids);
end
$$;
revoke all on function test_mv.remove_child_rows_in_lane(integer, bigint[]) from public;

-- reject_duplicates_in_lane(lane, ids, batch_id): the duplicates of the lane's documents ids, just rejected, are
-- rejected with them (equal as jsonb, twins share the lane); returns how many.
create or replace function test_mv.reject_duplicates_in_lane(p_lane integer, p_ids bigint[], p_batch_id bigint)
    returns integer
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    insert into test_mv.load_errors (lane, request_id, batch_id, reason, json_data)
    select p_lane, d.request_id, p_batch_id, left(format('a duplicate of document %s, which is rejected: %s',
                                                         e.request_id, e.reason), 1000), e.json_data
      from test_mv.load_errors e
      join test_mv.load_duplicates d on d.lane = e.lane and d.duplicate_of = e.request_id
     where e.lane = p_lane and e.request_id = any(p_ids);
    get diagnostics v_count = row_count;
    if v_count > 0 then
        delete from test_mv.load_duplicates d where d.lane = p_lane and d.duplicate_of = any(p_ids);
        update test_mv.load_metadata
           set rejected_documents = rejected_documents + v_count, duplicate_documents = duplicate_documents - v_count
         where lane = p_lane;
    end if;
    return v_count;
end
$$;
revoke all on function test_mv.reject_duplicates_in_lane(integer, bigint[], bigint) from public;

-- settle_redone_in_lane(lane, kind, batch_id, first, last, ids): R__redo_documents' settle_redone_documents for one
-- lane. The changes to the four tables are noted in changed_documents by hand here (Citus has no statement
-- triggers with transition tables), so that the next check takes the documents in.
create or replace function test_mv.settle_redone_in_lane(p_lane integer, p_kind text, p_batch_id bigint, p_first bigint,
                                                         p_last bigint, p_ids bigint[])
    returns void
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_gone    bigint[];
    v_changed bigint[] := array(select i from unnest(p_ids) i where i between p_first and p_last);
begin
    if p_kind = 'reload' then
        v_gone := array(select e.request_id from test_mv.load_errors e
                         where e.lane = p_lane and e.request_id = any(p_ids) and e.batch_id = p_batch_id
                        union all
                        select d.request_id from test_mv.load_duplicates d
                         where d.lane = p_lane and d.request_id = any(p_ids) and d.batch_id = p_batch_id);
        if cardinality(v_gone) > 0 then
            update test_mv.load_duplicates d
               set duplicate_of = twin.duplicate_of
              from test_mv.load_duplicates twin
             where d.lane = p_lane and twin.lane = p_lane
               and twin.request_id = any(v_gone) and twin.batch_id = p_batch_id and d.duplicate_of = twin.request_id;
            perform test_mv.reject_duplicates_in_lane(p_lane, v_gone, p_batch_id);
            delete from test_mv.clients c where c.lane = p_lane and c.client_id = any(v_gone);
            update test_mv.load_metadata set loaded_documents = loaded_documents - cardinality(v_gone)
             where lane = p_lane;
        end if;
        update test_mv.clients c
           set application_id = (s.stage -> 'application_id')::integer, document_key = s.document_key,
               batch_id = p_batch_id
          from test_mv.landed_documents s
         where c.lane = p_lane and s.lane = p_lane and c.client_id = any(v_changed) and s.id = c.client_id;
    end if;
    insert into test_mv.changed_documents (client_id, table_name, operation)
    select i, case p_kind when 'reprocess' then 'load_errors' else 'clients' end, upper(p_kind) from unnest(v_changed) i;
end
$$;
revoke all on function test_mv.settle_redone_in_lane(integer, text, bigint, bigint, bigint, bigint[]) from public;

-- redo_in_lane(lane, kind, ids, last_id, batch_size): write_lane over a list of the lane's documents; a batch of
-- none that ends at last_id when it took none of them though loading is not paused; null only while paused.
create or replace function test_mv.redo_in_lane(p_lane integer, p_kind text, p_ids bigint[], p_last_id bigint,
                                                p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_batch test_mv.load_batches;
begin
    if cardinality(p_ids) > 0 then
        v_batch := test_mv.write_lane(p_lane, p_kind, p_batch_size, p_ids, null, null);
    end if;
    if v_batch.batch_id is null and not exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        v_batch.taken := 0;
        v_batch.last_request_id := p_last_id;
    end if;
    return v_batch;
end
$$;
revoke all on function test_mv.redo_in_lane(integer, text, bigint[], bigint, integer) from public;

-- reprocess_rejected(...): as on one server (R__reprocess_and_reject), the lanes one after another.
create or replace procedure public.reprocess_rejected(p_reason_like text default '%',
                                                      p_from_id bigint default null,
                                                      p_to_id bigint default null,
                                                      p_rejected_after timestamptz default null,
                                                      p_rejected_before timestamptz default null,
                                                      p_batch_size integer default 1000,
                                                      p_dry_run boolean default false)
    language plpgsql
as $$
declare
    v_batch  test_mv.load_batches;
    v_ids    bigint[];
    v_after  bigint;
    v_taken  bigint := 0::bigint;
    v_loaded bigint := 0::bigint;
    v_dupes  bigint := 0::bigint;
begin
    if p_dry_run then
        raise notice '% rejected document(s) chosen; nothing changed (dry run)',
            test_mv.count_rejected_to_reprocess(p_reason_like, p_from_id, p_to_id, p_rejected_after, p_rejected_before);
        return;
    end if;
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'reprocess_rejected: batch_size must be a positive integer, not %',
            coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    <<lanes>>
    for v_lane in 0..15 loop
        v_after := 0::bigint;
        loop
            v_ids := array(select e.request_id
                             from test_mv.load_errors e
                            where e.lane = v_lane
                              and e.request_id > greatest(v_after, greatest(coalesce(p_from_id, 0), 0) - 1)
                              and e.request_id <= coalesce(p_to_id, 9223372036854775807)
                              and e.reason like coalesce(p_reason_like, '%')
                              and e.rejected_at >= coalesce(p_rejected_after, '-infinity')
                              and e.rejected_at < coalesce(p_rejected_before, 'infinity')
                            order by e.request_id
                            limit p_batch_size);
            exit when pg_catalog.cardinality(v_ids) = 0;
            v_batch := test_mv.redo_in_lane(v_lane, 'reprocess', v_ids, v_ids[pg_catalog.cardinality(v_ids)], p_batch_size);
            exit lanes when v_batch.last_request_id is null; -- paused
            v_after  := v_batch.last_request_id;
            v_taken  := v_taken + v_batch.taken::bigint;
            v_loaded := v_loaded + coalesce(v_batch.loaded, 0)::bigint;
            v_dupes  := v_dupes + coalesce(v_batch.duplicates, 0)::bigint;
            commit;
        end loop;
    end loop;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        raise exception 'reprocess_rejected: stopped, as loading is paused (%), after reprocessing % document(s) (% loaded)',
            (select c.reason from test_mv.load_control c), v_taken, v_loaded
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'The batches before the pause are committed. CALL resume_loading(), then call reprocess_rejected again for the rest.';
    end if;
    raise notice 'reprocessed % rejected document(s): % loaded, % duplicate(s) of a loaded one, % still rejected',
        v_taken, v_loaded, v_dupes, v_taken - v_loaded - v_dupes;
end
$$;

-- reload_documents(from_id, to_id, batch_size): as on one server (R__reload), the lanes one after another; a
-- document whose landing row was pruned is left as it is.
create or replace procedure public.reload_documents(p_from_id bigint, p_to_id bigint, p_batch_size integer default 1000)
    language plpgsql
as $$
declare
    v_batch test_mv.load_batches;
    v_ids   bigint[];
    v_after bigint;
    v_taken bigint := 0::bigint;
    v_gone  bigint := 0::bigint;
begin
    if p_from_id is null or p_to_id is null or p_from_id > p_to_id then
        raise exception 'reload_documents: give a range of request ids, from_id <= to_id (not % to %)',
            coalesce(p_from_id::text, 'null'), coalesce(p_to_id::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL reload_documents(1, 1000000).';
    end if;
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'reload_documents: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    <<lanes>>
    for v_lane in 0..15 loop
        v_after := greatest(p_from_id, 1) - 1;
        loop
            v_ids := array(select c.client_id
                             from test_mv.clients c
                            where c.lane = v_lane and c.client_id > v_after and c.client_id <= p_to_id
                              and exists (select 1 from test_mv.landed_documents s
                                           where s.lane = v_lane and s.id = c.client_id)
                            order by c.client_id
                            limit p_batch_size);
            exit when pg_catalog.cardinality(v_ids) = 0;
            v_batch := test_mv.redo_in_lane(v_lane, 'reload', v_ids, v_ids[pg_catalog.cardinality(v_ids)], p_batch_size);
            exit lanes when v_batch.last_request_id is null; -- paused
            v_after := v_batch.last_request_id;
            v_taken := v_taken + v_batch.taken::bigint;
            v_gone  := v_gone + coalesce(v_batch.rejected, 0)::bigint + coalesce(v_batch.duplicates, 0)::bigint;
            commit;
        end loop;
    end loop;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        raise exception 'reload_documents: stopped, as loading is paused (%), after reloading % document(s)',
            (select c.reason from test_mv.load_control c), v_taken
            using errcode = 'object_not_in_prerequisite_state',
                  hint = format('The batches before the pause are committed. CALL resume_loading(), then CALL reload_documents(%s, %s) again.',
                                p_from_id, p_to_id);
    end if;
    raise notice 'reloaded % document(s); % of them are no longer loaded (rejected, or duplicates)', v_taken, v_gone;
end
$$;

-- reject_document(request_id, reason): as on one server (R__reprocess_and_reject), in the document's lane.
create or replace procedure public.reject_document(p_request_id bigint, p_reason text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_lane     integer;
    v_position test_mv.load_metadata;
    v_batch    test_mv.load_batches;
    v_stage    jsonb;
    v_outcome  text;
    v_twins    integer;
begin
    if coalesce(btrim(p_reason), '') = '' then
        raise exception 'reject_document: say why document % is rejected; the reason is kept with it', p_request_id
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL reject_document(42, ''test data from the load test'').';
    end if;
    v_lane := (select c.lane from test_mv.clients c where c.client_id = p_request_id);
    if v_lane is null then
        v_outcome := case
            when exists (select 1 from test_mv.load_errors e where e.request_id = p_request_id) then 'it is rejected already'
            when exists (select 1 from test_mv.load_duplicates d where d.request_id = p_request_id)
                then format('it is a duplicate of document %s: reject that one',
                            (select d.duplicate_of from test_mv.load_duplicates d where d.request_id = p_request_id))
            when exists (select 1 from test_mv.landed_documents s where s.id = p_request_id) then 'it is pending'
            else 'no such document was landed' end;
        raise exception 'reject_document: document % is not loaded: %', p_request_id, v_outcome
            using errcode = 'invalid_parameter_value';
    end if;
    -- Serialises with the lane's batches: none decides a duplicate of this document while it goes.
    select * into strict v_position from test_mv.load_metadata m where m.lane = v_lane for update;
    select s.stage into v_stage from test_mv.landed_documents s where s.lane = v_lane and s.id = p_request_id;
    if v_stage is null then
        raise exception 'reject_document: the landing row of document % was pruned; load_errors could not keep the document',
            p_request_id
            using errcode = 'invalid_parameter_value';
    end if;
    v_batch.batch_id := nextval('test_mv.load_batch_id_seq');
    v_batch.started_at := clock_timestamp();
    perform test_mv.remove_child_rows_in_lane(v_lane, array[p_request_id]);
    insert into test_mv.load_errors (lane, request_id, batch_id, reason, json_data)
    values (v_lane, p_request_id, v_batch.batch_id,
            left(format('rejected by hand by %s: %s', test_mv.session_caller(), p_reason), 1000), v_stage);
    v_twins := test_mv.reject_duplicates_in_lane(v_lane, array[p_request_id], v_batch.batch_id);
    delete from test_mv.clients c where c.lane = v_lane and c.client_id = p_request_id;
    update test_mv.load_metadata
       set loaded_documents = loaded_documents - 1, rejected_documents = rejected_documents + 1
     where lane = v_lane;
    insert into test_mv.changed_documents (client_id, table_name, operation) values (p_request_id, 'clients', 'REJECT');
    select 1, p_request_id, p_request_id, 0, 1 + v_twins, 0, 0, 0, 0, v_position.last_xid,
           v_position.last_request_id, v_position.last_xid, v_position.last_request_id, clock_timestamp(), 1,
           'reject', coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid '
                     || pg_backend_pid() || ')', v_lane
      into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
           v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products, v_batch.from_xid, v_batch.from_request_id,
           v_batch.to_xid, v_batch.to_request_id, v_batch.finished_at, v_batch.batch_size, v_batch.kind,
           v_batch.caller, v_batch.lane;
    insert into test_mv.load_batches select v_batch.*;
    raise notice 'document % rejected, its rows removed (batch %)', p_request_id, v_batch.batch_id;
end
$$;

-- prune_lane_batch(lane, node, after_xid, after_id, cutoff, batch_size): R__prune's prune_next_batch for the rows
-- one node landed in the lane, up to the lane's position among them (lane_positions), with the digests of the
-- loaded documents among the rows it removes kept here (on one server a trigger keeps them, V012: Citus refuses the
-- transition table it reads).
create or replace function test_mv.prune_lane_batch(p_lane integer, p_node integer, p_after_xid xid8, p_after_id bigint,
                                                    p_cutoff timestamptz, p_batch_size integer,
                                                    out pruned integer, out next_xid xid8, out next_id bigint)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_position record;
    v_chosen   record;
    v_removed  bigint[];
    v_loaded   bigint[];
    v_digests  bytea[];
    v_from     bigint;
    v_to       bigint;
begin
    select p.last_xid, p.last_request_id into v_position
      from test_mv.lane_positions p where p.lane = p_lane and p.node = p_node;
    if not found then
        return; -- nothing of the node taken yet
    end if;
    -- The lane's next documents, up to its position; the loaded ones to go keep their digest first.
    select array_agg(s.id order by s.landed_xid, s.id) filter (where s.landed_at < p_cutoff) as doomed,
           (array_agg(s.landed_xid order by s.landed_xid desc, s.id desc))[1] as last_xid,
           (array_agg(s.id order by s.landed_xid desc, s.id desc))[1] as last_id
      into v_chosen
      from (select s.id, s.landed_xid, s.landed_at
              from test_mv.landed_documents s
             where s.lane = p_lane and s.landed_node = p_node
               and (s.landed_xid, s.id) > (p_after_xid, p_after_id)
               and (s.landed_xid, s.id) <= (v_position.last_xid, v_position.last_request_id)
             order by s.landed_xid, s.id
             limit p_batch_size) s;
    next_xid := v_chosen.last_xid;
    next_id := v_chosen.last_id;
    pruned := 0;
    if coalesce(cardinality(v_chosen.doomed), 0) = 0 then
        return;
    end if;
    -- In steps: Citus writes a reference table from values, not from a query of a distributed one.
    select array_agg(s.id), array_agg(test_mv.document_digest(s.stage))
      into v_loaded, v_digests
      from test_mv.landed_documents s
     where s.lane = p_lane and s.id = any(v_chosen.doomed)
       and exists (select 1 from test_mv.clients c where c.lane = p_lane and c.client_id = s.id);
    if v_loaded is not null then
        insert into test_mv.pruned_documents (request_id, digest)
        select d.id, d.digest from unnest(v_loaded, v_digests) d(id, digest)
            on conflict (request_id) do nothing;
    end if;
    with removed as (
        delete from test_mv.landed_documents s
         where s.lane = p_lane and s.id = any(v_chosen.doomed)
        returning s.id
    )
    select array_agg(r.id) into v_removed from removed r;
    pruned := coalesce(cardinality(v_removed), 0);
    if pruned > 0 then
        v_from := (select min(i) from unnest(v_removed) i);
        v_to := (select max(i) from unnest(v_removed) i);
        insert into test_mv.pruned_ranges (from_id, to_id, documents) values (v_from, v_to, pruned);
        update test_mv.load_control set pruned_documents = pruned_documents + pruned;
    end if;
end
$$;

revoke all on function test_mv.prune_lane_batch(integer, integer, xid8, bigint, timestamptz, integer) from public;

-- prune_history_batch(cutoff, batch_size): as on one server, the run history a lane at a time.
create or replace function test_mv.prune_history_batch(p_cutoff timestamptz, p_batch_size integer)
    returns integer
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_removed integer := 0;
    v_count   integer;
begin
    for v_lane in -1..15 loop
        delete from test_mv.load_batches b
         where b.lane = v_lane
           and b.batch_id in (select o.batch_id from test_mv.load_batches o
                               where o.lane = v_lane and o.started_at < p_cutoff
                               order by o.started_at limit p_batch_size);
        get diagnostics v_count = row_count;
        v_removed := v_removed + v_count;
    end loop;
    delete from test_mv.run_checks c
     where c.check_id in (select o.check_id from test_mv.run_checks o where o.checked_at < p_cutoff
                           order by o.check_id limit p_batch_size);
    get diagnostics v_count = row_count;
    v_removed := v_removed + v_count;
    delete from test_mv.failed_runs f
     where f.failure_id in (select o.failure_id from test_mv.failed_runs o where o.failed_at < p_cutoff
                             and o.failure_id is distinct from (select h.last_failure_id from test_mv.run_health h)
                           order by o.failure_id limit p_batch_size);
    get diagnostics v_count = row_count;
    v_removed := v_removed + v_count;
    delete from test_mv.changed_documents d
     where d.change_id in (select o.change_id from test_mv.changed_documents o
                            where o.changed_at < p_cutoff and o.checked_by is not null
                            order by o.change_id limit p_batch_size);
    get diagnostics v_count = row_count;
    return v_removed + v_count;
end
$$;

-- prune_duplicates_in_lane(lane, cutoff): removes the lane's records of duplicates decided by a batch started before
-- cutoff whose landing row is gone; returns how many. (On one server prune_duplicates_batch compares batch ids; on
-- Citus each node numbers batches from a range of its own, so the time decides.)
create or replace function test_mv.prune_duplicates_in_lane(p_lane integer, p_cutoff timestamptz)
    returns integer
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    delete from test_mv.load_duplicates d
     where d.lane = p_lane
       and d.batch_id in (select b.batch_id from test_mv.load_batches b where b.lane = p_lane and b.started_at < p_cutoff)
       and not exists (select 1 from test_mv.landed_documents s where s.lane = p_lane and s.id = d.request_id);
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
revoke all on function test_mv.prune_duplicates_in_lane(integer, timestamptz) from public;

-- prune_landing(older_than, history_older_than, duplicates_older_than, batch_size): as on one server (R__prune).
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
    v_node     integer;
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
        foreach v_node in array array(select p.node from test_mv.lane_positions p where p.lane = v_lane order by p.node) loop
            v_xid := '0'::xid8;
            v_id := 0::bigint;
            loop
                select * into v_batch from test_mv.prune_lane_batch(v_lane, v_node, v_xid, v_id, v_cutoff, p_batch_size);
                exit when v_batch.next_id is null;
                v_landing := v_landing + v_batch.pruned::bigint;
                v_xid := v_batch.next_xid;
                v_id := v_batch.next_id;
                commit;
            end loop;
        end loop;
        if p_duplicates_older_than is not null then
            v_twins := v_twins + test_mv.prune_duplicates_in_lane(v_lane, now() - p_duplicates_older_than)::bigint;
            commit;
        end if;
    end loop;
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
