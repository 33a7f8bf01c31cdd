-- What reprocessing, reloading and rejecting by hand need besides write_batch: removing a document's child rows,
-- rejecting the one document of a list that fails alone, and settling what a redone batch changed (the rows of a
-- reloaded document that is no longer loaded, the duplicates of a document that is no longer loaded, the running
-- totals, the note that makes the next check take the documents in). PL/pgSQL: repeatables also run on databases
-- migrated to an earlier version, where a SQL body naming a later column would fail.
-- They run while their caller holds every lane (write_batch, reject_document); the running totals they change are
-- kept on lane 0's row (only the sum over the lanes counts the tables).

-- remove_child_rows(ids): deletes the phones, addresses and products of the loaded documents ids. Through the id
-- ranges the batches that wrote them recorded (V007): index range scans. When one of those batches recorded none
-- (loaded before V007, or its history gone), by client_id, which no index serves: the child tables are read whole.
-- The deletions are noted by the tables' triggers (changed_documents): the next check takes the documents in.
create or replace function test_mv.remove_child_rows(p_ids bigint[])
    returns void
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    if exists (select 1
                 from test_mv.clients c
                 left join test_mv.load_batches b on b.batch_id = c.batch_id
                where c.client_id = any(p_ids) and b.from_xid is null) then
        delete from test_mv.phones p where p.client_id = any(p_ids);
        delete from test_mv.addresses a where a.client_id = any(p_ids);
        delete from test_mv.products r where r.client_id = any(p_ids);
        return;
    end if;
    delete from test_mv.phones p
     using (select distinct b.phone_ids as ids
              from test_mv.load_batches b
             where b.batch_id in (select c.batch_id from test_mv.clients c where c.client_id = any(p_ids))) r
     where p.phone_id >= lower(r.ids) and p.phone_id < upper(r.ids) and p.client_id = any(p_ids);
    delete from test_mv.addresses a
     using (select distinct b.address_ids as ids
              from test_mv.load_batches b
             where b.batch_id in (select c.batch_id from test_mv.clients c where c.client_id = any(p_ids))) r
     where a.address_id >= lower(r.ids) and a.address_id < upper(r.ids) and a.client_id = any(p_ids);
    delete from test_mv.products x
     using (select distinct b.product_ids as ids
              from test_mv.load_batches b
             where b.batch_id in (select c.batch_id from test_mv.clients c where c.client_id = any(p_ids))) r
     where x.product_id >= lower(r.ids) and x.product_id < upper(r.ids) and x.client_id = any(p_ids);
end
$$;

-- reject_duplicates_of(ids, batch_id): the duplicates of the documents ids, which were just rejected (by hand, or
-- on reload), are rejected with them: equal as jsonb, the reason holds for them too. Each keeps its own outcome.
create or replace function test_mv.reject_duplicates_of(p_ids bigint[], p_batch_id bigint)
    returns integer
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
    select d.request_id, p_batch_id, left(format('a duplicate of document %s, which is rejected: %s', e.request_id,
                                                 e.reason), 1000), e.json_data
      from test_mv.load_errors e
      join test_mv.load_duplicates d on d.duplicate_of = e.request_id
     where e.request_id = any(p_ids);
    get diagnostics v_count = row_count;
    if v_count > 0 then
        delete from test_mv.load_duplicates d where d.duplicate_of = any(p_ids);
        update test_mv.load_metadata
           set rejected_documents = rejected_documents + v_count, duplicate_documents = duplicate_documents - v_count
         where lane = 0;
    end if;
    return v_count;
end
$$;

-- redo_listed(kind, ids, last_id, batch_size): write_batch over a list of documents, for the callers that walk a
-- selection batch after batch (reprocess_next_batch, reload_next_batch). When it takes none of them though loading
-- is not paused (another caller took them meanwhile, or they were pruned), it returns a batch of none that ends at
-- last_id, so that the walk goes on after them; null only while loading is paused.
create or replace function test_mv.redo_listed(p_kind text, p_ids bigint[], p_last_id bigint, p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_batch test_mv.load_batches;
begin
    if cardinality(p_ids) > 0 then
        v_batch := test_mv.write_batch(p_kind, p_batch_size, p_ids);
    end if;
    if v_batch.batch_id is null and not exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        v_batch.taken := 0;
        v_batch.last_request_id := p_last_id;
    end if;
    return v_batch;
end
$$;

-- reject_listed_document(kind, id, position, batch_id, reason): write_batch's safety net for reprocessing and
-- reloading: the document of the list that fails alone is rejected with the error (a reprocessed one keeps its
-- rejection, with this reason), and the position stays where it is.
create or replace function test_mv.reject_listed_document(p_kind text, p_id bigint, p_position test_mv.load_metadata,
                                                          p_batch_id bigint, p_reason text)
    returns test_mv.load_batches
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    if p_kind = 'reprocess' then
        update test_mv.load_errors set reason = p_reason, batch_id = p_batch_id, rejected_at = now()
         where request_id = p_id;
    else
        -- A reloaded document: its child rows went in the attempt that failed, and came back with it.
        perform test_mv.remove_child_rows(array[p_id]);
        insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
        select s.id, p_batch_id, p_reason, s.stage from public.fake_json_request s where s.id = p_id;
        update test_mv.load_metadata set rejected_documents = rejected_documents + 1 where lane = p_position.lane;
    end if;
    return test_mv.one_rejection(p_id, p_position.last_xid, p_position.last_request_id);
end
$$;

-- settle_redone_documents(kind, batch_id, first, last, ids): after write_batch reprocessed or reloaded the documents
-- of ids from first to last. A reloaded document rejected or found a duplicate now loses its row in clients (its
-- child rows went already), and its own duplicates follow it; one still loaded gets its row as today's mapping
-- gives it (write_batch's new_clients). Reprocessed documents are noted as changed, so that the next check takes
-- them in (inserts fire no trigger; a reload's deletions and updates are noted by the tables' triggers).
create or replace function test_mv.settle_redone_documents(p_kind text, p_batch_id bigint, p_first bigint,
                                                           p_last bigint, p_ids bigint[])
    returns void
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_gone bigint[];
begin
    if p_kind = 'reprocess' then
        insert into test_mv.changed_documents (client_id, table_name, operation)
        select i, 'load_errors', 'REPROCESS' from unnest(p_ids) i where i between p_first and p_last;
        return;
    end if;
    v_gone := array(select e.request_id from test_mv.load_errors e
                     where e.request_id = any(p_ids) and e.batch_id = p_batch_id
                    union all
                    select d.request_id from test_mv.load_duplicates d
                     where d.request_id = any(p_ids) and d.batch_id = p_batch_id);
    if cardinality(v_gone) > 0 then
        -- A duplicate's duplicates now duplicate its loaded twin; a rejected one's are rejected with it.
        update test_mv.load_duplicates d
           set duplicate_of = twin.duplicate_of
          from test_mv.load_duplicates twin
         where twin.request_id = any(v_gone) and twin.batch_id = p_batch_id and d.duplicate_of = twin.request_id;
        perform test_mv.reject_duplicates_of(v_gone, p_batch_id);
        delete from test_mv.clients c where c.client_id = any(v_gone);
        update test_mv.load_metadata set loaded_documents = loaded_documents - cardinality(v_gone) where lane = 0;
    end if;
    update test_mv.clients c
       set application_id = (s.stage -> 'application_id')::integer, document_key = jsonb_hash_extended(s.stage, 0),
           batch_id = p_batch_id
      from public.fake_json_request s
     where c.client_id = any(p_ids) and c.client_id between p_first and p_last and s.id = c.client_id;
end
$$;

revoke all on function test_mv.redo_listed(text, bigint[], bigint, integer) from public;
revoke all on function test_mv.remove_child_rows(bigint[]) from public;
revoke all on function test_mv.reject_duplicates_of(bigint[], bigint) from public;
revoke all on function test_mv.reject_listed_document(text, bigint, test_mv.load_metadata, bigint, text) from public;
revoke all on function test_mv.settle_redone_documents(text, bigint, bigint, bigint, bigint[]) from public;
