-- Loading on Citus: a batch is one lane's, and runs where the lane's shards are.

-- lane_batch_statement(): write_lane's statement, with its tables as format() arguments (%1$s the landed documents,
-- %2$s clients, %3$s phones, %4$s addresses, %5$s products, %6$s load_errors, %7$s load_duplicates, %8$s load_metadata,
-- %9$s lane_positions, %10$s pruned_documents: lane_relations' order) and its values as parameters ($1 the kind, $2
-- the lane, $3 the node whose rows a load takes, $4 and $5 that node's position, $6 the horizon (null: none), $7 how
-- many, $8 the ids of a reprocessing or a reload, $9 the batch id, $10 its time). Citus cannot send a statement
-- that writes in its WITH clause to one shard whole: it plans each part apart, through intermediate results, at
-- many times the cost of the work. On the worker that holds the lane, write_lane runs it on the lane's shards
-- themselves, a plain PostgreSQL statement there; elsewhere on the distributed tables, which Citus plans. A shard has
-- none of its table's defaults (Citus fills them in before it sends a row), so every column is given: the child rows'
-- ids from their identity sequences, a rejection's time.
create or replace function test_mv.lane_batch_statement()
    returns text
    language sql
    immutable
    set search_path = pg_catalog, pg_temp
as $fn$
    select '
            with batch as materialized (
                (select s.id, s.stage, s.document_key, s.landed_xid, test_mv.is_loadable(s.stage) as loadable
                   from %1$s s
                  where $1 = ''load''
                    and s.lane = $2 and s.landed_node = $3
                    and (s.landed_xid, s.id) > ($4, $5)
                    and ($6 is null or s.landed_xid < $6)
                  order by s.landed_xid, s.id
                  limit $7)
                union all
                (select e.request_id, e.json_data, jsonb_hash_extended(e.json_data, 0), ''0''::xid8,
                        test_mv.is_loadable(e.json_data)
                   from %6$s e
                  where $1 = ''reprocess'' and e.lane = $2 and e.request_id = any($8)
                  order by e.request_id
                  limit $7)
                union all
                (select s.id, s.stage, s.document_key, s.landed_xid, test_mv.is_loadable(s.stage)
                   from %1$s s
                  where $1 = ''reload'' and s.lane = $2 and s.id = any($8)
                  order by s.id
                  limit $7)
            ),
            judged as materialized (
                select t.id, t.stage, t.document_key, t.landed_xid, t.loadable,
                       case when not t.loadable then coalesce(test_mv.document_problem(t.stage), ''document: malformed'') end
                           as problem,
                       case when t.loadable
                            then coalesce((select c.client_id
                                             from %2$s c
                                            where c.lane = $2 and c.document_key = t.document_key
                                              and c.client_id <> t.id
                                              and coalesce((select original.stage = t.stage
                                                              from %1$s original
                                                             where original.lane = $2 and original.id = c.client_id),
                                                           (select gone.digest = test_mv.document_digest(t.stage)
                                                              from %10$s gone
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
            -- What the position records of the last document taken, computed here: Citus refuses an UPDATE that
            -- calls a stable function with a column of the row.
            last_taken as materialized (
                select j.id, j.landed_xid, test_mv.first_address_date(j.stage) as date,
                       case when j.loadable then md5(j.stage::text) else test_mv.document_md5(j.stage) end as hash
                  from judged j
                 where $1 = ''load''
                 order by j.landed_xid desc, j.id desc
                 limit 1
            ),
            new_clients as (
                insert into %2$s (lane, client_id, application_id, document_key, batch_id)
                select $2, j.id, (j.stage -> ''application_id'')::integer, j.document_key, $9
                  from judged j
                 where j.loadable and j.duplicate_of is null and $1 <> ''reload'' -- a reloaded one keeps its row
                returning 1
            ),
            new_phones as (
                insert into %3$s (lane, phone_id, client_id, position, type, number)
                select $2, nextval(''test_mv.phones_phone_id_seq''), j.id, p.position, p.type, p.number
                  from judged j
                 cross join lateral test_mv.phone_rows(j.stage) p
                 where j.loadable and j.duplicate_of is null
                returning phone_id
            ),
            new_addresses as (
                insert into %4$s (lane, address_id, client_id, position, type, date, city, street, house, flat)
                select $2, nextval(''test_mv.addresses_address_id_seq''), j.id, a.position, a.type, a.date, a.city, a.street, a.house, a.flat
                  from judged j
                 cross join lateral test_mv.address_rows(j.stage) a
                 where j.loadable and j.duplicate_of is null
                returning address_id
            ),
            new_products as (
                insert into %5$s (lane, product_id, client_id, product_name, count, cost, total_sum)
                select $2, nextval(''test_mv.products_product_id_seq''), j.id, r.product_name, r.count, r.cost, r.total_sum
                  from judged j
                 cross join lateral test_mv.product_rows(j.stage) r
                 where j.loadable and j.duplicate_of is null
                returning product_id
            ),
            new_errors as (
                insert into %6$s (lane, request_id, batch_id, reason, json_data, rejected_at)
                select $2, j.id, $9, j.problem, j.stage, $10
                  from judged j
                 where j.problem is not null and $1 <> ''reprocess''
                returning 1
            ),
            -- A reprocessed document still rejected keeps its row, with today''s reason; one loaded or found a
            -- duplicate now leaves load_errors: one outcome a document.
            kept_errors as (
                update %6$s e
                   set reason = j.problem, batch_id = $9, rejected_at = $10
                  from judged j
                 where $1 = ''reprocess'' and e.lane = $2 and e.request_id = j.id and j.problem is not null
                returning 1
            ),
            resolved_errors as (
                delete from %6$s e
                 using judged j
                 where $1 = ''reprocess'' and e.lane = $2 and e.request_id = j.id and j.problem is null
                returning 1
            ),
            new_duplicates as (
                insert into %7$s (lane, request_id, duplicate_of, batch_id)
                select $2, j.id, j.duplicate_of, $9 from judged j where j.duplicate_of is not null
                returning 1
            ),
            -- Only a load moves the position (the node''s, and the lane''s last); every kind adds to the lane''s running
            -- totals what it changed.
            node_advanced as (
                insert into %9$s (lane, node, last_xid, last_request_id)
                select $2, $3, l.landed_xid, l.id from last_taken l
                    on conflict (lane, node) do update set last_xid = excluded.last_xid,
                                                           last_request_id = excluded.last_request_id
                returning 1
            ),
            advanced as (
                update %8$s m
                   set last_node = case when l.id is null then m.last_node else $3 end,
                       last_xid = coalesce(l.landed_xid, m.last_xid),
                       last_request_id = coalesce(l.id, m.last_request_id),
                       last_date = case when l.id is null then m.last_date else l.date end,
                       last_hash = coalesce(l.hash, m.last_hash),
                       last_batch_id = case when l.id is null then m.last_batch_id else $9 end,
                       updated_at = case when l.id is null then m.updated_at else $10 end,
                       loaded_documents = m.loaded_documents + (select count(*) from new_clients),
                       rejected_documents = m.rejected_documents + (select count(*) from new_errors)
                                            - (select count(*) from resolved_errors),
                       duplicate_documents = m.duplicate_documents + (select count(*) from new_duplicates)
                  from (select 1) one
                  left join last_taken l on true
                 where m.lane = $2
                returning m.last_xid, m.last_request_id
            )
            select t.taken::integer, t.first_request_id, t.last_request_id, w.loaded::integer, w.rejected::integer,
                   w.duplicates::integer, p.n::integer, a.n::integer, r.n::integer, m.last_xid, m.last_request_id,
                   p.ids, a.ids, r.ids
              from (select count(*) as taken, min(j.id) as first_request_id, max(j.id) as last_request_id from judged j) t
             cross join (select (select count(*) from new_clients)
                                    + (select count(*) from judged j
                                        where $1 = ''reload'' and j.loadable and j.duplicate_of is null) as loaded,
                                (select count(*) from new_errors) + (select count(*) from kept_errors) as rejected,
                                (select count(*) from new_duplicates) as duplicates) w
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(phone_id), max(phone_id), ''[]'') end as ids
                           from new_phones) p
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(address_id), max(address_id), ''[]'') end as ids
                           from new_addresses) a
             cross join (select count(*) as n, case when count(*) > 0 then int8range(min(product_id), max(product_id), ''[]'') end as ids
                           from new_products) r
              left join advanced m on true;
'
$fn$;

-- lane_relations(lane): the relations write_lane's statements name, in lane_batch_statement's order, then the run
-- history and load_control: the lane's shards (and the local copy of the reference tables) when this node holds the
-- lane (a delegated batch), else the distributed tables.
create or replace function test_mv.lane_relations(p_lane integer)
    returns text[]
    language plpgsql
    stable
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_tables regclass[] := array['test_mv.landed_documents', 'test_mv.clients', 'test_mv.phones', 'test_mv.addresses',
                                 'test_mv.products', 'test_mv.load_errors', 'test_mv.load_duplicates',
                                 'test_mv.load_metadata', 'test_mv.lane_positions', 'test_mv.pruned_documents',
                                 'test_mv.load_batches', 'test_mv.load_control']::regclass[];
begin
    if not exists (select 1
                     from pg_dist_placement p
                     join pg_dist_local_group g on g.groupid = p.groupid
                    where p.shardid = get_shard_id_for_distribution_column('test_mv.landed_documents', p_lane)) then
        return array(select t::text from unnest(v_tables) with ordinality u(t, n) order by n);
    end if;
    return array(select shard_name(t, case when t in ('test_mv.pruned_documents'::regclass, 'test_mv.load_control'::regclass)
                                           then (select d.shardid from pg_dist_shard d where d.logicalrelid = t)
                                           else get_shard_id_for_distribution_column(t, p_lane) end)
                   from unnest(v_tables) with ordinality u(t, n)
                  order by n);
end
$$;

-- write_lane(lane, kind, batch_size, ids, caller): the Citus layout's write_batch (R__load_next_batch), for one lane:
-- 'load' takes the next batch_size landed documents of the lane past its position and advances it; 'reprocess'
-- puts the lane's rejected documents of ids through today's rules; 'reload' re-derives the rows of the lane's loaded
-- documents of ids. The judgement (is_loadable, document_problem, a duplicate by jsonb equality through the key, the
-- key never deciding alone) and the rows (phone_rows, address_rows, product_rows: R__document_rows) are the single
-- server's; what differs is that every statement names the lane, which Citus needs to send it to the one worker
-- that holds the lane (and refuses otherwise), and that every row carries it. Returns the batch's figures; null
-- when the lane is held by another caller (a load passes it over), nothing is to be done, or loading is paused.
-- batch_id is the batch's id, drawn from the sequence on the coordinator (null: drawn here, where this runs): so the
-- ids of all batches come from one sequence, and a lane's follow the order its batches ran in (an id not above the
-- lane's last batch is refused, and the batch takes nothing), which the check after a run relies on.
-- A lane's documents are taken node by node (landed_node): the rows some other node landed (the lane's shard moved
-- here since; a move waits for the transactions writing the shard, so all of them are committed) first, each node's
-- from its own position (lane_positions), then this node's, below its horizon.
-- Guarantee, as write_batch's: every document taken ends up exactly once in clients, load_errors or
-- load_duplicates, in the transaction that advances its lane's position and the running totals.
drop function if exists test_mv.write_lane(integer, text, integer, bigint[], text);
create or replace function test_mv.write_lane(p_lane integer, p_kind text, p_batch_size integer, p_ids bigint[],
                                              p_caller text, p_batch_id bigint)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    set jit = off
    -- As write_batch's: the access paths pinned to the indexes, room for a batch of 10,000 documents.
    set enable_seqscan = off
    set enable_bitmapscan = off
    set work_mem = '32MB'
as $$
declare
    v_started  timestamptz := clock_timestamp();
    v_horizon  xid8;
    v_position test_mv.load_metadata;
    v_batch_id bigint;
    v_batch    test_mv.load_batches;
    v_take     integer     := p_batch_size;
    v_state    text;
    v_message  text;
    v_now      timestamptz;
    v_ids      bigint[];
    v_local_node integer;
    v_open     text;
    v_opened   record;
    v_error    text;
    v_limit    integer;
    v_same     boolean := false;
    v_streak   integer;
    v_pending  boolean;
    v_node     integer;
    v_from     record;
    v_probe    integer := -1;
    v_relations text[]    := test_mv.lane_relations(p_lane);
    v_local     boolean;
    v_prepared  text;
    -- The lane's position among one node's rows ($2), (0, 0) before its first batch.
    v_node_position text  := format('select coalesce(max(p.last_xid::text)::xid8, ''0''::xid8) as last_xid,'
                                    || ' coalesce(max(p.last_request_id), 0) as last_request_id'
                                    || ' from %s p where p.lane = $1 and p.node = $2', v_relations[9]);
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'load_batch: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL load_batch(100).';
    end if;
    if p_lane is null or p_lane not between 0 and 15 then
        raise exception 'write_lane: lane must be 0 to 15, not %', coalesce(p_lane::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    if p_kind is null or p_kind not in ('load', 'reprocess', 'reload') then
        raise exception 'write_lane: kind must be load, reprocess or reload, not %', coalesce(p_kind, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    -- On the worker that holds the lane, its shards themselves (lane_relations); elsewhere the distributed tables.
    v_local := v_relations[1] <> 'test_mv.landed_documents';
    if v_local then
        v_horizon := pg_snapshot_xmin(pg_current_snapshot());
        v_local_node := (select g.groupid from pg_dist_local_group g);
    else
        select s.horizon, s.node into v_horizon, v_local_node from test_mv.lane_start(p_lane) s;
    end if;
    -- One statement opens the batch: the lane's position, locked (a load passes a held lane over; the other kinds
    -- wait for the load running in it), whether loading is paused, and which nodes' rows the lane holds (the lowest
    -- and highest: two index probes). Only the locked row is read as it is now: what else this statement reads is
    -- as its snapshot saw it, which may be older than the batch that just released the lane.
    v_open := format('select m::text::test_mv.load_metadata as position, (select exists (select 1 from %s c where c.paused_at is not null)) as paused,'
                     || ' (select min(s.landed_node) from %s s where s.lane = $1) as low,'
                     || ' (select max(s.landed_node) from %s s where s.lane = $1) as high'
                     || ' from %s m where m.lane = $1 and $2 is not null for update of m%s',
                     v_relations[12], v_relations[1], v_relations[1], v_relations[8],
                     case when p_kind = 'load' then ' skip locked' else '' end);
    if v_local then
        v_prepared := 'incremental_loader_lane_' || p_lane || '_' || left(md5(array_to_string(v_relations, ',')), 8);
        if not exists (select 1 from pg_prepared_statements p where p.name = v_prepared || '_' || p_kind) then
            execute format('prepare %I (integer, integer) as ', v_prepared || '_' || p_kind) || v_open;
        end if;
        execute format('execute %I(%s, %s)', v_prepared || '_' || p_kind, p_lane, v_local_node) into v_opened;
    else
        execute v_open into v_opened using p_lane, v_local_node;
    end if;
    if v_opened.position is null then
        if p_kind = 'load' then
            return null;
        end if;
        raise exception 'write_lane: lane % has no position', p_lane;
    end if;
    v_position := v_opened.position;
    if v_opened.paused then
        return null;
    end if;
    select v_position.last_xid as last_xid, v_position.last_request_id as last_request_id into v_from;
    v_batch_id := coalesce(p_batch_id, nextval('test_mv.load_batch_id_seq'));
    if v_batch_id <= coalesce(v_position.last_batch_id, 0) then
        return null; -- drawn before the lane's last batch took its id: the caller draws again
    end if;
    if p_kind = 'load' then
        if v_opened.low is null then
            return null; -- nothing landed in the lane
        end if;
        v_node := v_local_node;
        if v_position.last_node <> v_local_node then
            -- The lane's last batch took another node's rows: this node's position, read now that the lane is held.
            execute v_node_position
               into v_from using p_lane, v_local_node;
        end if;
        if v_opened.low <> v_local_node or v_opened.high <> v_local_node then
            -- Rows of other nodes too (the lane's shard moved here since they landed): the first node with rows
            -- past its position, others' before this node's, one index probe a node.
            v_node := null;
            loop
                execute format('select min(s.landed_node) from %s s where s.lane = $1 and s.landed_node > $2', v_relations[1])
                   into v_probe using p_lane, v_probe;
                exit when v_probe is null;
                execute v_node_position
                   into v_from using p_lane, v_probe;
                execute format('select exists (select 1 from %s s where s.lane = $1 and s.landed_node = $2'
                               || ' and (s.landed_xid, s.id) > ($3, $4) and ($2 <> $5 or s.landed_xid < $6))', v_relations[1])
                   into v_pending using p_lane, v_probe, v_from.last_xid, v_from.last_request_id, v_local_node, v_horizon;
                if v_pending then
                    v_node := v_probe;
                    exit when v_node <> v_local_node;
                end if;
            end loop;
            if v_node is null then
                return null;
            end if;
            execute v_node_position
               into v_from using p_lane, v_node;
        end if;
        if v_node <> v_local_node then
            v_horizon := null; -- another node's rows: all committed, none can come
        end if;
    end if;
    <<attempt>>
    loop
        begin
            v_now := clock_timestamp();
            if p_kind = 'reload' then
                -- The rows to re-derive go first, in this attempt, so that a failed attempt brings them back.
                v_ids := array(select i from unnest(p_ids) i order by i limit v_take);
                perform test_mv.remove_child_rows_in_lane(p_lane, v_ids);
            end if;
            if v_local then
                -- Prepared once a session for the lane's shards, so that it is planned once, not at every batch.
                if not exists (select 1 from pg_prepared_statements p where p.name = v_prepared) then
                    execute format('prepare %I (text, integer, integer, xid8, bigint, xid8, integer, bigint[], bigint,'
                                   || ' timestamptz) as ', v_prepared)
                            || format(test_mv.lane_batch_statement(), variadic v_relations);
                end if;
                execute format('execute %I(%L, %s, %L, %L, %s, %L, %s, %L, %s, %L)', v_prepared, p_kind, p_lane, v_node,
                               v_from.last_xid, v_from.last_request_id, v_horizon, v_take, p_ids, v_batch_id, v_now)
                   into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded,
                        v_batch.rejected, v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products,
                        v_batch.to_xid, v_batch.to_request_id, v_batch.phone_ids, v_batch.address_ids,
                        v_batch.product_ids;
            else
                execute format(test_mv.lane_batch_statement(), variadic v_relations)
                   into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded,
                        v_batch.rejected, v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products,
                        v_batch.to_xid, v_batch.to_request_id, v_batch.phone_ids, v_batch.address_ids,
                        v_batch.product_ids
                  using p_kind, p_lane, v_node, v_from.last_xid, v_from.last_request_id, v_horizon, v_take, p_ids,
                        v_batch_id, v_now;
            end if;
            exit attempt;
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
            if test_mv.is_environment_error(v_state) then
                raise;
            elsif v_take > 1 then
                v_take := v_take / 2;
            else
                if p_kind = 'load' then
                    -- The circuit breaker (V014), a lane's: the same error again and again in the lane with nothing
                    -- loaded there meanwhile, past load_control.safety_net_limit, is not the documents'.
                    v_error := v_state || ' ' || left(regexp_replace(v_message, '[0-9]+', 'N', 'g'), 200);
                    execute format('select c.safety_net_limit from %s c', v_relations[12]) into v_limit;
                    if v_position.safety_net_error = v_error then
                        execute format('select not exists (select 1 from %s b where b.lane = $1 and b.batch_id > $2'
                                       || ' and b.kind = ''load'' and b.loaded > 0)', v_relations[11])
                           into v_same using p_lane, v_position.safety_net_batch_id;
                    end if;
                    v_streak := case when v_same then v_position.safety_net_streak else 0 end;
                    if v_streak >= v_limit then
                        raise exception 'circuit breaker: the safety net has rejected % documents in a row of lane % for the same error, so it is not theirs: % %', v_streak, p_lane, v_state, left(v_message, 300)
                            using errcode = 'IL001',
                                  hint = 'Fix the cause (a constraint, trigger or privilege added to the loader''s tables?), then load again: the rest is pending, and reprocess_rejected() brings back the documents rejected for it. The limit is test_mv.load_control.safety_net_limit.';
                    end if;
                end if;
                -- The safety net's last step: the one document that fails alone is rejected with the error.
                v_batch := test_mv.reject_failing_in_lane(p_lane, p_kind, v_position, v_node, v_from.last_xid,
                                                          v_from.last_request_id, v_horizon, p_ids, v_batch_id,
                                                          format('the batch failed on this document: %s %s', v_state,
                                                                 left(v_message, 500)));
                if p_kind = 'load' then
                    execute format('update %s set safety_net_streak = $1, safety_net_error = $2,'
                                   || ' safety_net_batch_id = $3 where lane = $4', v_relations[8])
                       using v_streak + 1, v_error, v_batch_id, p_lane;
                end if;
                exit attempt;
            end if;
        end;
    end loop;

    if v_batch.taken = 0 then
        return null;
    end if;
    if p_kind <> 'load' then
        perform test_mv.settle_redone_in_lane(p_lane, p_kind, v_batch_id, v_batch.first_request_id,
                                              v_batch.last_request_id, p_ids);
    end if;
    v_batch.batch_id        := v_batch_id;
    v_batch.from_xid        := coalesce(v_from.last_xid, v_position.last_xid);
    v_batch.from_request_id := coalesce(v_from.last_request_id, v_position.last_request_id);
    v_batch.started_at      := v_started;
    v_batch.finished_at     := clock_timestamp();
    v_batch.batch_size      := p_batch_size;
    v_batch.kind            := p_kind;
    v_batch.lane            := p_lane;
    v_batch.node            := v_node;
    v_batch.caller          := coalesce(p_caller, coalesce(nullif(current_setting('application_name'), ''), 'unnamed')
                                              || ' (pid ' || pg_backend_pid() || ')');
    if p_kind <> 'load' then -- the position the batch found, before and after
        v_batch.to_xid        := v_position.last_xid;
        v_batch.to_request_id := v_position.last_request_id;
    end if;
    execute format('insert into %s select ($1).*', v_relations[11]) using v_batch;
    return v_batch;
end
$$;
revoke all on function test_mv.write_lane(integer, text, integer, bigint[], text, bigint) from public;

-- reject_failing_in_lane(lane, kind, position, node, from_xid, from_id, horizon, ids, batch_id, reason): the safety
-- net's last step: the one document that fails alone, the next of the node's rows of the lane past (from_xid,
-- from_id) below the horizon (a load: the positions move to it) or the first of the list (reprocess: it keeps its
-- rejection, with this reason; reload: its rows go and it is rejected).
drop function if exists test_mv.reject_failing_in_lane(integer, text, test_mv.load_metadata, xid8, bigint[], bigint, text);
create or replace function test_mv.reject_failing_in_lane(p_lane integer, p_kind text, p_position test_mv.load_metadata,
                                                          p_node integer, p_from_xid xid8, p_from_id bigint,
                                                          p_horizon xid8, p_ids bigint[], p_batch_id bigint,
                                                          p_reason text)
    returns test_mv.load_batches
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_document record;
    v_hash     text;
    v_date     date;
    v_now      timestamptz;
begin
    if p_kind = 'load' then
        select s.id, s.stage, s.landed_xid into strict v_document
          from test_mv.landed_documents s
         where s.lane = p_lane and s.landed_node = p_node
           and (s.landed_xid, s.id) > (p_from_xid, p_from_id)
           and (p_horizon is null or s.landed_xid < p_horizon)
         order by s.landed_xid, s.id
         limit 1;
        begin
            v_hash := test_mv.document_md5(v_document.stage);
            v_date := test_mv.first_address_date(v_document.stage);
        exception when others then
            v_hash := null; -- they only describe the position for people
            v_date := null;
        end;
        insert into test_mv.load_errors (lane, request_id, batch_id, reason, json_data)
        values (p_lane, v_document.id, p_batch_id, p_reason, v_document.stage);
        insert into test_mv.lane_positions (lane, node, last_xid, last_request_id)
        values (p_lane, p_node, v_document.landed_xid, v_document.id)
            on conflict (lane, node) do update set last_xid = excluded.last_xid, last_request_id = excluded.last_request_id;
        v_now := clock_timestamp(); -- Citus refuses a volatile function in an UPDATE
        update test_mv.load_metadata
           set last_node = p_node, last_xid = v_document.landed_xid, last_request_id = v_document.id, last_date = v_date,
               last_hash = v_hash, last_batch_id = p_batch_id, updated_at = v_now,
               rejected_documents = rejected_documents + 1
         where lane = p_lane;
        return test_mv.one_rejection(v_document.id, v_document.landed_xid, v_document.id);
    elsif p_kind = 'reprocess' then
        select e.request_id as id into strict v_document
          from test_mv.load_errors e where e.lane = p_lane and e.request_id = any(p_ids) order by 1 limit 1;
        update test_mv.load_errors set reason = p_reason, batch_id = p_batch_id, rejected_at = now()
         where lane = p_lane and request_id = v_document.id;
    else
        select s.id, s.stage into strict v_document
          from test_mv.landed_documents s where s.lane = p_lane and s.id = any(p_ids) order by 1 limit 1;
        perform test_mv.remove_child_rows_in_lane(p_lane, array[v_document.id]);
        insert into test_mv.load_errors (lane, request_id, batch_id, reason, json_data)
        values (p_lane, v_document.id, p_batch_id, p_reason, v_document.stage);
        update test_mv.load_metadata set rejected_documents = rejected_documents + 1 where lane = p_lane;
    end if;
    return test_mv.one_rejection(v_document.id, p_position.last_xid, p_position.last_request_id);
end
$$;
revoke all on function test_mv.reject_failing_in_lane(integer, text, test_mv.load_metadata, integer, xid8, bigint, xid8,
                                                         bigint[], bigint, text) from public;

-- draw_batch_id(): a batch id from the coordinator's sequence, for the caller of load_lane (a role granted EXECUTE on
-- it needs no right on the sequence).
create or replace function test_mv.draw_batch_id()
    returns bigint
    language sql
    volatile
    security definer
    set search_path = pg_catalog, pg_temp
as $$
    select nextval('test_mv.load_batch_id_seq')
$$;
revoke all on function test_mv.draw_batch_id() from public;

drop function if exists test_mv.load_lane(integer, integer);
drop function if exists test_mv.load_lane(integer, integer, text);

-- load_lane(lane, batch_size, caller, batch_id): a load batch of the lane (write_lane), distributed by the lane, so
-- that a top-level call runs on the worker that holds it, beside its rows, and each of its statements runs there on
-- one shard. caller names the caller in the run history, as "application (pid N)" on the coordinator: delegated,
-- the session is Citus's (citus_internal gpid=...). batch_id is drawn by the caller on the coordinator beforehand
-- (test_mv.draw_batch_id()): an argument that calls a function is not delegated. Null when the lane is
-- held, has nothing pending, or the id was drawn too early (draw again). What the service calls (load, serve).
create or replace function test_mv.load_lane(p_lane integer, p_batch_size integer, p_caller text, p_batch_id bigint)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    return test_mv.write_lane(p_lane, 'load', p_batch_size, null, p_caller, p_batch_id);
end
$$;
revoke all on function test_mv.load_lane(integer, integer, text, bigint) from public;
select create_distributed_function('test_mv.load_lane(integer, integer, text, bigint)', 'p_lane',
                                   colocate_with => 'test_mv.landed_documents');

-- load_next_batch(batch_size) on the coordinator: the next lane with documents pending that no one holds, in the
-- order the lanes moved (the lane's batch planned here statement by statement, each sent to the lane's worker: a
-- call nested in a function is not delegated). What CALL load_batch(n) and load_pending run.
create or replace function test_mv.load_next_batch(p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_lane  integer;
    v_batch test_mv.load_batches;
begin
    for v_lane in select m.lane from test_mv.load_metadata m order by m.updated_at, m.lane loop
        v_batch := test_mv.write_lane(v_lane, 'load', p_batch_size, null, null, null);
        if v_batch.batch_id is not null then
            return v_batch;
        end if;
    end loop;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        raise notice 'loading is paused since % by %: %; nothing taken',
            (select c.paused_at from test_mv.load_control c), (select c.paused_by from test_mv.load_control c),
            (select c.reason from test_mv.load_control c)
            using hint = 'CALL resume_loading() resumes it.';
    end if;
    return null;
end
$$;
revoke all on function test_mv.load_next_batch(integer) from public;
