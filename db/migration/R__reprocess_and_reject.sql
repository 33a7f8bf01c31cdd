-- Second thoughts on outcomes: reprocess_rejected puts rejected documents through today's rules (after a release
-- that accepts what an older one rejected, or a rejection that was a mistake); reject_document rejects a loaded
-- document that should not have been, its rows removed with it. Both serialise with the loader on the position's
-- row (write_batch), so that duplicates are decided as in a load, and both keep every landed document at exactly
-- one outcome. Granted, never to PUBLIC: see the README's roles.

-- rejected_to_reprocess(...): the rejected documents the selectors choose, past request id after_id, in id order
-- (batch_size of them); count_rejected_to_reprocess(...) counts them all (a dry run). Every selector has a default
-- that selects everything: any reason, any id, any time.
create or replace function test_mv.rejected_to_reprocess(p_after_id bigint, p_reason_like text, p_from_id bigint,
                                                         p_to_id bigint, p_rejected_after timestamptz,
                                                         p_rejected_before timestamptz, p_batch_size integer)
    returns bigint[]
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
as $$
begin
    return array(select e.request_id
                   from test_mv.load_errors e
                  where e.request_id > greatest(p_after_id, greatest(coalesce(p_from_id, 0), 0) - 1)
                    and e.request_id <= coalesce(p_to_id, 9223372036854775807)
                    and e.reason like coalesce(p_reason_like, '%')
                    and e.rejected_at >= coalesce(p_rejected_after, '-infinity')
                    and e.rejected_at < coalesce(p_rejected_before, 'infinity')
                  order by e.request_id
                  limit p_batch_size);
end
$$;

create or replace function test_mv.count_rejected_to_reprocess(p_reason_like text default '%',
                                                               p_from_id bigint default null,
                                                               p_to_id bigint default null,
                                                               p_rejected_after timestamptz default null,
                                                               p_rejected_before timestamptz default null)
    returns bigint
    language plpgsql stable
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    return (select count(*)
              from test_mv.load_errors e
             where e.request_id >= coalesce(p_from_id, 0)
               and e.request_id <= coalesce(p_to_id, 9223372036854775807)
               and e.reason like coalesce(p_reason_like, '%')
               and e.rejected_at >= coalesce(p_rejected_after, '-infinity')
               and e.rejected_at < coalesce(p_rejected_before, 'infinity'));
end
$$;

-- reprocess_next_batch(after_id, selectors..., batch_size): reprocesses the next batch_size chosen rejected
-- documents past after_id, in one transaction; returns the batch (kind 'reprocess'), whose last_request_id is where
-- the next call starts; null when none is left or loading is paused.
create or replace function test_mv.reprocess_next_batch(p_after_id bigint, p_reason_like text, p_from_id bigint,
                                                        p_to_id bigint, p_rejected_after timestamptz,
                                                        p_rejected_before timestamptz, p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_ids bigint[];
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'reprocess_rejected: batch_size must be a positive integer, not %',
            coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    v_ids := test_mv.rejected_to_reprocess(coalesce(p_after_id, 0), p_reason_like, p_from_id, p_to_id,
                                           p_rejected_after, p_rejected_before, p_batch_size);
    if cardinality(v_ids) = 0 then
        return null;
    end if;
    return test_mv.redo_listed('reprocess', v_ids, v_ids[cardinality(v_ids)], p_batch_size);
end
$$;

-- reprocess_rejected(...): reprocesses every chosen rejected document, batch after batch, a transaction each:
-- the ones today's rules accept are loaded (or found duplicates of a loaded twin), the others stay rejected with
-- today's reason; the run history has a batch of kind 'reprocess' for each. dry_run counts them and changes nothing.
-- CALL it outside a transaction block: it commits after every batch (so it has no SET clause; every name is
-- qualified instead).
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
    v_batch   test_mv.load_batches;
    v_after   bigint := 0::bigint;
    v_taken   bigint := 0::bigint;
    v_loaded  bigint := 0::bigint;
    v_dupes   bigint := 0::bigint;
begin
    if p_dry_run then
        raise notice '% rejected document(s) chosen; nothing changed (dry run)',
            test_mv.count_rejected_to_reprocess(p_reason_like, p_from_id, p_to_id, p_rejected_after, p_rejected_before);
        return;
    end if;
    loop
        v_batch := test_mv.reprocess_next_batch(v_after, p_reason_like, p_from_id, p_to_id, p_rejected_after,
                                                p_rejected_before, p_batch_size);
        exit when v_batch.last_request_id is null;
        v_after  := v_batch.last_request_id;
        v_taken  := v_taken + v_batch.taken::bigint;
        v_loaded := v_loaded + coalesce(v_batch.loaded, 0)::bigint;
        v_dupes  := v_dupes + coalesce(v_batch.duplicates, 0)::bigint;
        commit;
    end loop;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        raise exception 'reprocess_rejected: stopped, as loading is paused (%), after reprocessing % document(s) (% loaded), up to request id %',
            (select c.reason from test_mv.load_control c), v_taken, v_loaded, v_after
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'The batches before the pause are committed. CALL resume_loading(), then call reprocess_rejected again for the rest.';
    end if;
    raise notice 'reprocessed % rejected document(s): % loaded, % duplicate(s) of a loaded one, % still rejected',
        v_taken, v_loaded, v_dupes, v_taken - v_loaded - v_dupes;
end
$$;

-- reject_document(request_id, reason): rejects a loaded document by hand: its rows go, a row in load_errors keeps
-- the document and the reason (with who rejected it), and its duplicates are rejected with it; one transaction,
-- recorded in the run history as a batch of kind 'reject'. Removing its row from clients makes PostgreSQL check
-- that no child row still refers to it, and no index on client_id serves that: the child tables are read whole,
-- seconds at tens of millions of rows. A document rejected by hand goes through again like any other when a
-- reprocessing chooses it.
create or replace procedure public.reject_document(p_request_id bigint, p_reason text)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
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
    -- Serialises with the loader: no batch decides a duplicate of this document while it goes. Every lane, in lane
    -- order, as write_batch takes them for the kinds other than a load; the batch records lane 0's position.
    perform from test_mv.load_metadata m order by m.lane for update;
    select * into strict v_position from test_mv.load_metadata m where m.lane = 0;
    if not exists (select 1 from test_mv.clients c where c.client_id = p_request_id) then
        v_outcome := case
            when exists (select 1 from test_mv.load_errors e where e.request_id = p_request_id) then 'it is rejected already'
            when exists (select 1 from test_mv.load_duplicates d where d.request_id = p_request_id)
                then format('it is a duplicate of document %s: reject that one',
                            (select d.duplicate_of from test_mv.load_duplicates d where d.request_id = p_request_id))
            when exists (select 1 from public.fake_json_request s where s.id = p_request_id) then 'it is pending'
            else 'no such document was landed' end;
        raise exception 'reject_document: document % is not loaded: %', p_request_id, v_outcome
            using errcode = 'invalid_parameter_value';
    end if;
    select s.stage into v_stage from public.fake_json_request s where s.id = p_request_id;
    if v_stage is null then
        raise exception 'reject_document: the landing row of document % was pruned; load_errors could not keep the document',
            p_request_id
            using errcode = 'invalid_parameter_value';
    end if;
    v_batch.batch_id := nextval('test_mv.load_batch_id_seq');
    v_batch.started_at := clock_timestamp();
    perform test_mv.remove_child_rows(array[p_request_id]);
    insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
    values (p_request_id, v_batch.batch_id,
            left(format('rejected by hand by %s: %s', test_mv.session_caller(), p_reason), 1000), v_stage);
    v_twins := test_mv.reject_duplicates_of(array[p_request_id], v_batch.batch_id);
    delete from test_mv.clients c where c.client_id = p_request_id;
    update test_mv.load_metadata
       set loaded_documents = loaded_documents - 1, rejected_documents = rejected_documents + 1
     where lane = 0;
    select 1, p_request_id, p_request_id, 0, 1 + v_twins, 0, 0, 0, 0, v_position.last_xid,
           v_position.last_request_id, v_position.last_xid, v_position.last_request_id, clock_timestamp(), 1,
           'reject', coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid '
                     || pg_backend_pid() || ')'
      into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
           v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products, v_batch.from_xid, v_batch.from_request_id,
           v_batch.to_xid, v_batch.to_request_id, v_batch.finished_at, v_batch.batch_size, v_batch.kind,
           v_batch.caller;
    insert into test_mv.load_batches select v_batch.*;
    raise notice 'document % rejected, its rows removed (batch %)', p_request_id, v_batch.batch_id;
end
$$;

revoke all on function test_mv.rejected_to_reprocess(bigint, text, bigint, bigint, timestamptz, timestamptz, integer)
    from public;
revoke all on function test_mv.count_rejected_to_reprocess(text, bigint, bigint, timestamptz, timestamptz) from public;
revoke all on function test_mv.reprocess_next_batch(bigint, text, bigint, bigint, timestamptz, timestamptz, integer)
    from public;
revoke all on procedure public.reprocess_rejected(text, bigint, bigint, timestamptz, timestamptz, integer, boolean)
    from public;
revoke all on procedure public.reject_document(bigint, text) from public;
