-- reload_documents(from_id, to_id): the day a mapping bug is found and fixed, the rows of the loaded documents of a
-- range of ids are derived again from their landing rows (those not pruned), by today's mapping and rules, in
-- batches of one transaction each: each document's old rows go and its new ones come in the same transaction
-- (write_batch, kind 'reload'), serialised with the loader on the position's row. A document today's rules reject
-- leaves clients for load_errors, and its duplicates follow it. The run history has a batch of kind 'reload' for
-- each; the next check takes the documents in. Granted, never to PUBLIC: see the README's roles.

-- reload_next_batch(after_id, to_id, batch_size): reloads the next batch_size loaded documents with an id past
-- after_id and up to to_id whose landing row is kept; returns the batch, whose last_request_id is where the next
-- call starts; null when none is left or loading is paused.
create or replace function test_mv.reload_next_batch(p_after_id bigint, p_to_id bigint, p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_ids  bigint[];
    v_last bigint;
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'reload_documents: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    v_ids := array(select c.client_id
                     from test_mv.clients c
                    where c.client_id > p_after_id and c.client_id <= p_to_id
                      and exists (select 1 from public.fake_json_request s where s.id = c.client_id)
                    order by c.client_id
                    limit p_batch_size);
    if cardinality(v_ids) = 0 then
        return null;
    end if;
    -- Their landing rows are what the rows are derived from: locked, so that a pruning in between cannot remove one
    -- after its document's rows went (prune_landing's DELETE waits for this transaction); those pruned already drop out.
    v_last := v_ids[cardinality(v_ids)];
    perform 1 from public.fake_json_request s where s.id = any(v_ids) for share;
    v_ids := array(select s.id from public.fake_json_request s where s.id = any(v_ids) order by s.id);
    return test_mv.redo_listed('reload', v_ids, v_last, p_batch_size);
end
$$;

-- CALL it outside a transaction block: it commits after every batch (so it has no SET clause; every name is
-- qualified instead).
create or replace procedure public.reload_documents(p_from_id bigint, p_to_id bigint, p_batch_size integer default 1000)
    language plpgsql
as $$
declare
    v_batch test_mv.load_batches;
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
    v_after := greatest(p_from_id, 1) - 1; -- ids start at 1, and from the smallest bigint, one less would overflow
    loop
        v_batch := test_mv.reload_next_batch(v_after, p_to_id, p_batch_size);
        exit when v_batch.last_request_id is null;
        v_after := v_batch.last_request_id;
        v_taken := v_taken + v_batch.taken::bigint;
        v_gone  := v_gone + coalesce(v_batch.rejected, 0)::bigint + coalesce(v_batch.duplicates, 0)::bigint;
        commit;
    end loop;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        raise exception 'reload_documents: stopped, as loading is paused (%), after reloading % document(s), up to request id %',
            (select c.reason from test_mv.load_control c), v_taken, v_after
            using errcode = 'object_not_in_prerequisite_state',
                  hint = format('The batches before the pause are committed. CALL resume_loading(), then CALL reload_documents(%s, %s) for the rest.',
                                v_after + 1, p_to_id);
    end if;
    raise notice 'reloaded % document(s); % of them are no longer loaded (rejected, or duplicates)', v_taken, v_gone;
end
$$;

revoke all on function test_mv.reload_next_batch(bigint, bigint, integer) from public;
revoke all on procedure public.reload_documents(bigint, bigint, integer) from public;
