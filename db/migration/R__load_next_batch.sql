-- is_environment_error(sqlstate): whether a failed batch failed because of where it runs (a lost connection, a lock
-- or statement timeout, a full disk, missing privileges, corruption), not because of the documents it took. Such an
-- error is raised again: trying fewer documents would not help, and rejecting them would lose good documents.
-- Everything else (data exceptions, constraint violations, program limits, what a trigger raises) is the data's.
create or replace function test_mv.is_environment_error(p_sqlstate text)
    returns boolean
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    select left(p_sqlstate, 2) in ('08', '0L', '0P', '25', '26', '28', '2D', '34', '3D', '3F', '40', '42', '53', '55',
                                   '57', '58', '72', 'F0', 'HV')
           or p_sqlstate in ('XX001', 'XX002')
$$;

-- one_rejection(id, to_xid, to_request_id): the figures of a batch that rejected one document and nothing else, the
-- position after it given; what the safety nets return.
create or replace function test_mv.one_rejection(p_id bigint, p_to_xid xid8, p_to_request_id bigint)
    returns test_mv.load_batches
    language plpgsql immutable
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_batch test_mv.load_batches;
begin
    select 1, p_id, p_id, 0, 1, 0, 0, 0, 0, p_to_xid, p_to_request_id
      into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
           v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products, v_batch.to_xid,
           v_batch.to_request_id;
    return v_batch;
end
$$;

-- reject_next_document(position, horizon, batch_id, reason): the safety net's last step, for the one document that
-- fails alone: rejects the next document of the position's lane past it with the reason, and advances the lane's
-- position to it.
-- It reads nothing of the document but what identifies it, since the document is what fails.
create or replace function test_mv.reject_next_document(p_position test_mv.load_metadata, p_horizon xid8,
                                                        p_batch_id bigint, p_reason text)
    returns test_mv.load_batches
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_document record;
    v_hash     text;
    v_date     date;
begin
    select s.id, s.stage, s.landed_xid into strict v_document
      from public.fake_json_request s
     where test_mv.document_lane(s.document_key) = p_position.lane
       and (s.landed_xid, s.id) > (p_position.last_xid, p_position.last_request_id)
       and s.landed_xid < p_horizon
     order by s.landed_xid, s.id
     limit 1;
    begin
        v_hash := test_mv.document_md5(v_document.stage);
        v_date := test_mv.first_address_date(v_document.stage);
    exception when others then
        v_hash := null; -- the hash and the date only describe the position for people
        v_date := null;
    end;
    insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
    values (v_document.id, p_batch_id, p_reason, v_document.stage);
    update test_mv.load_metadata
       set last_xid = v_document.landed_xid, last_request_id = v_document.id, last_date = v_date,
           last_hash = v_hash, last_batch_id = p_batch_id, updated_at = clock_timestamp(),
           rejected_documents = rejected_documents + 1
     where lane = p_position.lane;
    return test_mv.one_rejection(v_document.id, v_document.landed_xid, v_document.id);
end
$$;

-- write_batch(kind, batch_size, ids): the one place where documents become rows. Kind 'load' takes the next
-- batch_size landed documents of a lane past the lane's position and advances it (load_next_batch); 'reprocess'
-- puts the rejected
-- documents of ids through today's rules (reprocess_rejected); 'reload' re-derives the rows of the loaded documents
-- of ids (reload_documents). It works in one statement (and a second for the run history) and returns the batch's
-- figures (null when it took nothing).
-- Guarantee: every document taken ends up exactly once in clients (with its rows), load_errors (with a reason
-- naming the field) or load_duplicates, in the same transaction that advances its lane's position in load_metadata
-- and the running totals; any number of callers give the result of one.
--
-- Lanes (V011): a load takes a lane that has documents pending and that no other caller holds, without waiting for
-- a held one (SKIP LOCKED), so that N callers load N lanes at once; of the lanes with documents pending it takes
-- the one whose position moved longest ago, so that one caller goes round them all. Documents equal as jsonb share
-- a lane, and a lane is loaded by one caller at a time, in its order: which of two twins is loaded is decided as
-- one caller would. The other kinds choose their documents across lanes, so they take every lane, in lane order
-- (a load holds one lane and waits for nothing else: no deadlock), and wait for the loads running.
--
-- How: the batch is judged first, one row a document: loadable or not (is_loadable, one fast test; the reason only
-- for the rare rejected one, from document_problem), and for a loadable one whether it duplicates a loaded document
-- or an earlier one of the batch. Then each table's rows are exploded straight from the loadable documents, with no
-- join between exploded rows. Nothing here raises on a malformed value, so a malformed document cannot stop a batch.
-- And for what nobody foresaw (a trigger someone added, a limit nobody knew), a safety net: a batch that fails with
-- an error of its data, not of its environment (is_environment_error), is tried again with half as many documents,
-- down to the one document that fails alone, which is rejected with the error's SQLSTATE and message.
--
-- Security definer, so that a caller needs only EXECUTE (granted, never to PUBLIC); its search_path is pinned, so
-- that nothing planted in a schema a caller can write to runs with its owner's rights.
create or replace function test_mv.write_batch(p_kind text, p_batch_size integer, p_ids bigint[])
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    -- The set-returning functions' default estimate (100 rows each) inflates the plan's cost past jit_above_cost,
    -- and compiling it would cost many times the work of a batch of 100 documents.
    set jit = off
    -- Planning the batch statement costs a sizeable share of a 100-document batch; so it is planned once a session
    -- (a generic plan), with its access paths pinned so that no parameter or statistic can turn it into a scan of
    -- the landing table: the lane index to take the batch, the index on clients.document_key to find duplicates.
    -- (The prices of both: docs/profiling.md, Figures behind the routines' comments.)
    set plan_cache_mode = force_generic_plan
    set enable_seqscan = off
    set enable_bitmapscan = off
    -- Room to hold a batch of 10,000 documents in memory, twice (the batch and its judgement).
    set work_mem = '32MB'
as $$
declare
    -- Every transaction below the horizon that may land a document here has ended, so every row it landed is
    -- visible from here on; rows of younger transactions wait for a later batch (see R__load_horizon). Taken before
    -- the lane's lock (an older horizon stays true) to choose a lane, and fenced once the lane is held.
    v_snapshot pg_snapshot := pg_current_snapshot();
    v_horizon  xid8        := test_mv.horizon_of(v_snapshot);
    v_started  timestamptz := clock_timestamp();
    v_position test_mv.load_metadata;
    v_batch_id bigint;
    v_batch    test_mv.load_batches;
    v_take     integer     := p_batch_size;
    v_state    text;
    v_message  text;
    v_paused   record;
    v_ids      bigint[];
    v_error    text;
    v_streak   integer;
    v_control  record;
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'load_batch: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL load_batch(100).';
    end if;
    if p_kind is null or p_kind not in ('load', 'reprocess', 'reload') then
        raise exception 'write_batch: kind must be load, reprocess or reload, not %', coalesce(p_kind, 'null')
            using errcode = 'invalid_parameter_value';
    end if;

    if p_kind = 'load' then
        -- The row comparison and the lane are the lane index's bounds: a probe a lane, 16 at most.
        select * into v_position
          from test_mv.load_metadata m
         where exists (select 1
                         from public.fake_json_request s
                        where test_mv.document_lane(s.document_key) = m.lane
                          and (s.landed_xid, s.id) > (m.last_xid, m.last_request_id)
                          and s.landed_xid < v_horizon)
         order by m.updated_at, m.lane
         limit 1
           for update skip locked;
        if not found then
            if exists (select 1
                         from test_mv.load_metadata m
                        where exists (select 1
                                        from public.fake_json_request s
                                       where test_mv.document_lane(s.document_key) = m.lane
                                         and (s.landed_xid, s.id) > (m.last_xid, m.last_request_id)
                                         and s.landed_xid < v_horizon)) then
                raise notice 'every lane with documents pending is being loaded by another caller; nothing taken';
            end if;
            return null;
        end if;
        v_horizon := test_mv.fence_lane(v_position.lane, v_snapshot, v_horizon);
    else
        -- Every lane, in lane order; the batch's figures record lane 0's position, and the running totals it
        -- changes are kept on lane 0's row.
        perform from test_mv.load_metadata m order by m.lane for update;
        select * into strict v_position from test_mv.load_metadata m where m.lane = 0;
    end if;
    -- Paused (pause_loading): nothing is taken, and the caller is told why. Read after the lock, so that a caller
    -- that waited for running batches sees a pause made meanwhile.
    select c.paused_at, c.paused_by, c.reason into v_paused from test_mv.load_control c where c.paused_at is not null;
    if found then
        raise notice 'loading is paused since % by %: %; nothing taken', v_paused.paused_at, v_paused.paused_by,
            v_paused.reason
            using hint = 'CALL resume_loading() resumes it.';
        return null;
    end if;
    v_batch_id := nextval('test_mv.load_batch_id_seq');

    <<attempt>>
    loop
        begin
            if p_kind = 'reload' then
                -- The rows to re-derive go first, in this attempt, so that a failed attempt brings them back.
                v_ids := array(select i from unnest(p_ids) i order by i limit v_take);
                perform test_mv.remove_child_rows(v_ids);
            end if;
            -- One branch a kind, each behind a test of the kind that the executor makes once (a generic plan keeps
            -- all three; the two of other kinds cost their start-up only): the next documents of the lane past its
            -- position, by the lane index, with the key they landed with (V011); rejected documents by id, as
            -- load_errors keeps them, their key computed here; loaded documents by id.
            with batch as materialized (
                (select s.id, s.stage, s.document_key, s.landed_xid,
                        test_mv.is_loadable(s.stage) as loadable
                   from public.fake_json_request s
                  where p_kind = 'load'
                    and test_mv.document_lane(s.document_key) = v_position.lane
                    and (s.landed_xid, s.id) > (v_position.last_xid, v_position.last_request_id)
                    and s.landed_xid < v_horizon
                  order by s.landed_xid, s.id
                  limit v_take)
                union all
                (select e.request_id, e.json_data, jsonb_hash_extended(e.json_data, 0), '0'::xid8,
                        test_mv.is_loadable(e.json_data)
                   from test_mv.load_errors e
                  where p_kind = 'reprocess' and e.request_id = any(p_ids)
                  order by e.request_id
                  limit v_take)
                union all
                (select s.id, s.stage, s.document_key, s.landed_xid, test_mv.is_loadable(s.stage)
                   from public.fake_json_request s
                  where p_kind = 'reload' and s.id = any(p_ids)
                  order by s.id
                  limit v_take)
            ),
            judged as materialized (
                select t.id, t.stage, t.document_key, t.landed_xid, t.loadable,
                       case when not t.loadable then coalesce(test_mv.document_problem(t.stage), 'document: malformed') end
                           as problem,
                       -- A loadable document is a duplicate of a loaded one equal to it as jsonb, found through the key (an
                       -- index probe, whatever the plan) and confirmed on the documents themselves (a key is shared by some
                       -- different documents too); a loaded one whose landing row is gone is compared by the digest kept
                       -- when it went (V012), and one pruned before digests were kept proves nothing, so is no original.
                       -- The key never decides alone. Or it is a duplicate of the first equal one of this batch, looked for only when
                       -- its key occurs twice in the batch (a hash of the batch's repeated keys, usually empty: cheaper than
                       -- sorting the batch to compare neighbours). A reloaded document is loaded: it is not its own twin.
                       case when t.loadable
                            then coalesce((select c.client_id
                                             from test_mv.clients c
                                            where c.document_key = t.document_key and c.client_id <> t.id
                                              and coalesce((select original.stage = t.stage
                                                              from public.fake_json_request original
                                                             where original.id = c.client_id),
                                                           (select gone.digest = test_mv.document_digest(t.stage)
                                                              from test_mv.pruned_documents gone
                                                             where gone.request_id = c.client_id),
                                                           false)
                                            limit 1),
                                          case when t.document_key in (select r.document_key
                                                                         from batch r
                                                                        group by r.document_key
                                                                       having count(*) > 1)
                                               then (select earlier.id
                                                       from batch earlier
                                                      where earlier.document_key = t.document_key
                                                        and earlier.stage = t.stage
                                                        and (earlier.landed_xid, earlier.id) < (t.landed_xid, t.id)
                                                      order by earlier.landed_xid, earlier.id
                                                      limit 1)
                                          end) end as duplicate_of
                  from batch t
            ),
            new_clients as (
                insert into test_mv.clients (client_id, application_id, document_key, batch_id)
                select j.id, (j.stage -> 'application_id')::integer, j.document_key, v_batch_id
                  from judged j
                 where j.loadable and j.duplicate_of is null and p_kind <> 'reload' -- a reloaded one keeps its row
                returning 1
            ),
            -- The rows of each loaded document, by the mapping written once (R__document_rows).
            new_phones as (
                insert into test_mv.phones (client_id, position, type, number)
                select j.id, p.position, p.type, p.number
                  from judged j
                 cross join lateral test_mv.phone_rows(j.stage) p
                 where j.loadable and j.duplicate_of is null
                returning phone_id
            ),
            new_addresses as (
                insert into test_mv.addresses (client_id, position, type, date, city, street, house, flat)
                select j.id, a.position, a.type, a.date, a.city, a.street, a.house, a.flat
                  from judged j
                 cross join lateral test_mv.address_rows(j.stage) a
                 where j.loadable and j.duplicate_of is null
                returning address_id
            ),
            new_products as (
                insert into test_mv.products (client_id, product_name, count, cost, total_sum)
                select j.id, r.product_name, r.count, r.cost, r.total_sum
                  from judged j
                 cross join lateral test_mv.product_rows(j.stage) r
                 where j.loadable and j.duplicate_of is null
                returning product_id
            ),
            new_errors as (
                insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
                select j.id, v_batch_id, j.problem, j.stage from judged j where j.problem is not null and p_kind <> 'reprocess'
                returning 1
            ),
            -- A reprocessed document still rejected keeps its row, with today's reason; one loaded or found a
            -- duplicate now leaves load_errors: one outcome a document.
            kept_errors as (
                update test_mv.load_errors e
                   set reason = j.problem, batch_id = v_batch_id, rejected_at = now()
                  from judged j
                 where p_kind = 'reprocess' and e.request_id = j.id and j.problem is not null
                returning 1
            ),
            resolved_errors as (
                delete from test_mv.load_errors e
                 using judged j
                 where p_kind = 'reprocess' and e.request_id = j.id and j.problem is null
                returning 1
            ),
            new_duplicates as (
                insert into test_mv.load_duplicates (request_id, duplicate_of, batch_id)
                select j.id, j.duplicate_of, v_batch_id from judged j where j.duplicate_of is not null
                returning 1
            ),
            advanced as (
                -- Only a load moves the position. A loadable document passed the limits, its text form among them
                -- (is_loadable): its md5 is taken at once, without document_md5's look at a large document a second
                -- time. The running totals (V009) add the rows this statement writes and remove the rejections it
                -- resolved, so that they count what the tables hold (a reload's clients: see reload_outcomes).
                -- updated_at is when the lane moved, not when its transaction began: one call of load_batch moves
                -- several lanes in one transaction, and the seed's query (order by updated_at desc) finds the last.
                update test_mv.load_metadata m
                   set last_xid = case when p_kind = 'load' then l.landed_xid else m.last_xid end,
                       last_request_id = case when p_kind = 'load' then l.id else m.last_request_id end,
                       last_date = case when p_kind = 'load' then test_mv.first_address_date(l.stage) else m.last_date end,
                       last_hash = case when p_kind <> 'load' then m.last_hash
                                        when l.loadable then md5(l.stage::text) else test_mv.document_md5(l.stage) end,
                       last_batch_id = case when p_kind = 'load' then v_batch_id else m.last_batch_id end,
                       updated_at = case when p_kind = 'load' then clock_timestamp() else m.updated_at end,
                       loaded_documents = m.loaded_documents + (select count(*) from new_clients),
                       rejected_documents = m.rejected_documents + (select count(*) from new_errors)
                                            - (select count(*) from resolved_errors),
                       duplicate_documents = m.duplicate_documents + (select count(*) from new_duplicates)
                  from (select j.* from judged j order by j.landed_xid desc, j.id desc limit 1) l
                 where m.lane = v_position.lane
                returning m.last_xid, m.last_request_id
            )
            -- The run history says what the batch took and wrote by key (the position before and after it, the
            -- ranges of the child rows' ids), so that a run can be checked by index range scans (V007).
            select t.taken::integer, t.first_request_id, t.last_request_id, w.loaded::integer, w.rejected::integer,
                   w.duplicates::integer, p.n::integer, a.n::integer, r.n::integer, m.last_xid, m.last_request_id,
                   p.ids, a.ids, r.ids
              into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
                   v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products, v_batch.to_xid,
                   v_batch.to_request_id, v_batch.phone_ids, v_batch.address_ids, v_batch.product_ids
              from (select count(*) as taken, min(j.id) as first_request_id, max(j.id) as last_request_id from judged j) t
             cross join (select (select count(*) from new_clients)
                                    + (select count(*) from judged j
                                        where p_kind = 'reload' and j.loadable and j.duplicate_of is null) as loaded,
                                (select count(*) from new_errors) + (select count(*) from kept_errors) as rejected,
                                (select count(*) from new_duplicates) as duplicates) w
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(phone_id), max(phone_id), '[]') end as ids
                           from new_phones) p
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(address_id), max(address_id), '[]') end as ids
                           from new_addresses) a
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(product_id), max(product_id), '[]') end as ids
                           from new_products) r
              left join advanced m on true;
            exit attempt;
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
            if test_mv.is_environment_error(v_state) then
                raise;
            elsif v_take > 1 then
                v_take := v_take / 2;
            elsif p_kind = 'load' then
                -- The circuit breaker (V014): the same error, again and again with nothing loaded meanwhile, past
                -- the limit, is not the documents'. Counted on load_control, which only failing batches lock.
                v_error := v_state || ' ' || left(regexp_replace(v_message, '[0-9]+', 'N', 'g'), 200);
                select * into strict v_control from test_mv.load_control c for update;
                v_streak := case when v_control.safety_net_error = v_error
                                      and not exists (select 1 from test_mv.load_batches b
                                                       where b.batch_id > v_control.safety_net_batch_id
                                                         and b.kind = 'load' and b.loaded > 0)
                                 then v_control.safety_net_streak else 0 end;
                if v_streak >= v_control.safety_net_limit then
                    raise exception 'circuit breaker: the safety net has rejected % documents in a row for the same error, so it is not theirs: % %', v_streak, v_state, left(v_message, 300)
                        using errcode = 'IL001',
                              hint = 'Fix the cause (a constraint, trigger or privilege added to the loader''s tables?), then load again: the rest is pending, and reprocess_rejected() brings back the documents rejected for it. The limit is test_mv.load_control.safety_net_limit.';
                end if;
                v_batch := test_mv.reject_next_document(v_position, v_horizon, v_batch_id,
                                                        format('the batch failed on this document: %s %s', v_state,
                                                               left(v_message, 500)));
                update test_mv.load_control
                   set safety_net_streak = v_streak + 1, safety_net_error = v_error, safety_net_batch_id = v_batch_id;
                exit attempt;
            else
                -- The one document the failing attempt took: the first of the list that its branch finds.
                v_batch := test_mv.reject_listed_document(p_kind,
                                                          case when p_kind = 'reprocess'
                                                               then (select min(e.request_id) from test_mv.load_errors e
                                                                      where e.request_id = any(p_ids))
                                                               else (select min(s.id) from public.fake_json_request s
                                                                      where s.id = any(p_ids)) end,
                                                          v_position,
                                                          v_batch_id, format('the batch failed on this document: %s %s',
                                                                             v_state, left(v_message, 500)));
                exit attempt;
            end if;
        end;
    end loop;

    if v_batch.taken = 0 then
        return null;
    end if;
    if p_kind <> 'load' then
        perform test_mv.settle_redone_documents(p_kind, v_batch_id, v_batch.first_request_id, v_batch.last_request_id,
                                                p_ids);
    end if;
    -- A statement of its own, so that finished_at comes after the foreign-key checks of the rows, which run when
    -- the statement that wrote them ends (a third of a batch's time).
    v_batch.batch_id        := v_batch_id;
    v_batch.from_xid        := v_position.last_xid;
    v_batch.from_request_id := v_position.last_request_id;
    v_batch.started_at      := v_started;
    v_batch.finished_at     := clock_timestamp();
    v_batch.batch_size      := p_batch_size;
    v_batch.kind            := p_kind;
    v_batch.lane            := case when p_kind = 'load' then v_position.lane end;
    v_batch.caller          := coalesce(nullif(current_setting('application_name'), ''), 'unnamed')
                           || ' (pid ' || pg_backend_pid() || ')';
    insert into test_mv.load_batches select v_batch.*;

    return v_batch;
end
$$;

-- load_next_batch(batch_size): loads the next batch_size landed documents past the position (write_batch, kind
-- 'load'), and returns the batch's figures, null when nothing was pending or loading is paused.
create or replace function test_mv.load_next_batch(p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    return test_mv.write_batch('load', p_batch_size, null);
end
$$;

-- load_batch(batch_size): the procedure DBAs and schedulers CALL: loads the next batch_size pending documents, in
-- the caller's transaction; see write_batch for what it guarantees. A batch takes one lane's documents; when that
-- lane has fewer than batch_size pending, the call goes on with the next free lane, and the next, so that a call
-- takes batch_size documents as long as that many are pending in lanes no other caller holds (the seed's schedule,
-- one call every 5 minutes, loads what it loaded before lanes). Each lane's part is a batch of the run history.
-- Security definer like load_next_batch, so that EXECUTE on it is all a DBA's role needs.
create or replace procedure public.load_batch(p_batch_size integer default 100)
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_left  integer := p_batch_size;
    v_batch test_mv.load_batches;
begin
    loop
        v_batch := test_mv.load_next_batch(v_left);
        exit when v_batch.batch_id is null;
        v_left := v_left - v_batch.taken;
        exit when v_left <= 0;
    end loop;
end
$$;

-- Loading is granted, never assumed: see the README's roles. write_batch is called only by the routines above and
-- those of the data's lifecycle, which run as its owner.
revoke all on function test_mv.write_batch(text, integer, bigint[]) from public;
revoke all on function test_mv.one_rejection(bigint, xid8, bigint) from public;
revoke all on function test_mv.load_next_batch(integer) from public;
revoke all on procedure public.load_batch(integer) from public;
