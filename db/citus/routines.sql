-- The routines of the Citus layout (layout.sql), made again by every `migrate` on a coordinator after the
-- repeatable migrations, which make the single server's: where the two differ, these replace them.

-- The landing view: what producers insert and COPY into, with the columns the landing table had.
create or replace view public.fake_json_request as
select d.stage, d.id, d.landed_at, d.landed_xid, d.document_key, d.lane
  from test_mv.landed_documents d;
comment on view public.fake_json_request is
    'Landed raw documents (Citus: a view of test_mv.landed_documents). Insert or COPY only stage (and landed_at, '
    'if you keep an original landing time); the rest is filled by the database.';

-- land_on_citus(): each row inserted into the view lands in its lane's shard. Security definer, so that a producer
-- needs INSERT on the view only. What only the database may set is refused, as the single server's checks refuse
-- it (V005): an id or a landing transaction of the producer's would stand in another's place in a lane's order.
create or replace function test_mv.land_on_citus()
    returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    if new.id is not null or new.landed_xid is not null or new.document_key is not null or new.lane is not null then
        raise exception 'fake_json_request: only stage and landed_at may be given; id, landed_xid, document_key and lane are the database''s'
            using errcode = 'check_violation',
                  hint = 'Insert only the document: insert into fake_json_request (stage) values (...).';
    end if;
    insert into test_mv.landed_documents (lane, stage, landed_at)
    values (test_mv.document_lane(jsonb_hash_extended(new.stage, 0)), new.stage, coalesce(new.landed_at, now()))
    returning id, landed_at, landed_xid, document_key, lane
         into new.id, new.landed_at, new.landed_xid, new.document_key, new.lane;
    return new;
end
$$;
revoke all on function test_mv.land_on_citus() from public;
create or replace trigger tr_fake_json_request_land
    instead of insert on public.fake_json_request
    for each row execute function test_mv.land_on_citus();

-- stamp_landed_xid(): a landed row's landed_xid is the transaction that wrote it on its worker, where the lane's
-- batches compare it with their horizon: a default would be evaluated on the coordinator, whose xids are not the
-- worker's (Citus evaluates the functions of an INSERT before it routes the row). A landed row is never changed.
create or replace function test_mv.stamp_landed_xid()
    returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'UPDATE' then
        raise exception 'test_mv.landed_documents: a landed document is never changed'
            using errcode = 'check_violation', hint = 'Land a corrected document as a new one.';
    end if;
    new.landed_xid := pg_current_xact_id();
    return new;
end
$$;

-- horizon_of(snapshot) on a worker: the snapshot's oldest running transaction. Every transaction that writes on the
-- worker is waited for, landing or not: the single server's marker and fences (V013) read the node's lock table,
-- and a transaction of a coordinator has a worker transaction of its own on each worker it writes to.
create or replace function test_mv.horizon_of(p_snapshot pg_snapshot)
    returns xid8
    language sql
    stable
    set search_path = pg_catalog, pg_temp
as $$
    select pg_snapshot_xmin(p_snapshot)
$$;

-- lane_horizon(lane): the horizon on the worker that holds the lane, read there (a query routed by the lane), so
-- that a batch planned on the coordinator compares the lane's landed_xid with its own worker's transactions.
create or replace function test_mv.lane_horizon(p_lane integer)
    returns xid8
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_horizon xid8;
begin
    select pg_snapshot_xmin(pg_current_snapshot()) into strict v_horizon
      from test_mv.load_metadata m
     where m.lane = p_lane;
    return v_horizon;
end
$$;

-- load_lane(lane, batch_size): a batch of one lane, the Citus layout's load_next_batch. Distributed by the lane
-- (below), so that a top-level call runs on the worker that holds the lane, beside its rows; every statement names
-- the lane, so each is a single-shard statement there. It takes the next batch_size landed documents of the lane past
-- its position, below the horizon of that worker, decomposes them as write_batch does for the single server (the same
-- judgement: is_loadable, document_problem, duplicates by jsonb equality through the key) and advances the lane's
-- position, all in one transaction on that worker. Returns the batch's figures; null when the lane is held by another
-- caller, has nothing pending, or loading is paused.
create or replace function test_mv.load_lane(p_lane integer, p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    set jit = off
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
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'load_batch: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL load_batch(100).';
    end if;
    if p_lane is null or p_lane not between 0 and 15 then
        raise exception 'load_lane: lane must be 0 to 15, not %', coalesce(p_lane::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    v_horizon := test_mv.lane_horizon(p_lane);
    select * into v_position from test_mv.load_metadata m where m.lane = p_lane for update skip locked;
    if not found then
        return null;
    end if;
    if exists (select 1 from test_mv.load_control c where c.paused_at is not null) then
        return null;
    end if;
    if not exists (select 1 from test_mv.landed_documents s
                    where s.lane = p_lane
                      and (s.landed_xid, s.id) > (v_position.last_xid, v_position.last_request_id)
                      and s.landed_xid < v_horizon) then
        return null;
    end if;
    v_batch_id := nextval('test_mv.load_batch_id_seq');
    <<attempt>>
    loop
        begin
            v_now := clock_timestamp();
            with batch as materialized (
                select s.id, s.stage, s.document_key, s.landed_xid, test_mv.is_loadable(s.stage) as loadable
                  from test_mv.landed_documents s
                 where s.lane = p_lane
                   and (s.landed_xid, s.id) > (v_position.last_xid, v_position.last_request_id)
                   and s.landed_xid < v_horizon
                 order by s.landed_xid, s.id
                 limit v_take
            ),
            judged as materialized (
                select t.id, t.stage, t.document_key, t.landed_xid, t.loadable,
                       case when not t.loadable then coalesce(test_mv.document_problem(t.stage), 'document: malformed') end
                           as problem,
                       case when t.loadable
                            then coalesce((select c.client_id
                                             from test_mv.clients c
                                            where c.lane = p_lane and c.document_key = t.document_key
                                              and coalesce((select original.stage = t.stage
                                                              from test_mv.landed_documents original
                                                             where original.lane = p_lane
                                                               and original.id = c.client_id),
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
            last_taken as materialized (
                select j.id, j.landed_xid, test_mv.first_address_date(j.stage) as date,
                       case when j.loadable then md5(j.stage::text) else test_mv.document_md5(j.stage) end as hash
                  from judged j
                 order by j.landed_xid desc, j.id desc
                 limit 1
            ),
            new_clients as (
                insert into test_mv.clients (lane, client_id, application_id, document_key, batch_id)
                select p_lane, j.id, (j.stage -> 'application_id')::integer, j.document_key, v_batch_id
                  from judged j
                 where j.loadable and j.duplicate_of is null
                returning 1
            ),
            new_phones as (
                insert into test_mv.phones (lane, client_id, position, type, number)
                select p_lane, p.id, p.position, p.type, p.phone ->> p.type
                  from (select e.id, e.position, e.phone, jsonb_object_keys(e.phone) as type
                          from (select l.id, l.index + 1 as position, l.phones -> l.index as phone
                                  from (select d.id, d.phones, generate_series(0, jsonb_array_length(d.phones) - 1) as index
                                          from (select j.id, j.stage -> 'phones' as phones
                                                  from judged j
                                                 where j.loadable and j.duplicate_of is null
                                                   and jsonb_typeof(j.stage -> 'phones') = 'array'
                                                offset 0) d) l
                                offset 0) e) p
                returning phone_id
            ),
            new_addresses as (
                insert into test_mv.addresses (lane, client_id, position, type, date, city, street, house, flat)
                select p_lane, j.id, a.position, a.type, to_date(a.date, 'DD-MM-YYYY'), a.address ->> 'city',
                       a.address ->> 'street', a.address ->> 'house', (a.address ->> 'flat')::numeric::integer
                  from judged j
                 cross join lateral rows from (jsonb_to_recordset(case when jsonb_typeof(j.stage -> 'addresses') = 'array'
                                                                       then j.stage -> 'addresses' end)
                                               as (type text, date text, address jsonb)) with ordinality a(type, date, address, position)
                 where j.loadable and j.duplicate_of is null
                returning address_id
            ),
            new_products as (
                insert into test_mv.products (lane, client_id, product_name, count, cost, total_sum)
                select p_lane, p.id, p.name, (p.counts -> p.name)::integer, nullif(p.costs -> p.name, 'null')::bigint, p.total_sum
                  from (select d.id, d.counts, d.costs, d.total_sum, jsonb_object_keys(d.counts) as name
                          from (select j.id, j.stage -> 'products' -> 'product_cnt' as counts,
                                       j.stage -> 'products' -> 'product_cost' as costs,
                                       nullif(j.stage -> 'products' -> 'total_sum', 'null')::bigint as total_sum
                                  from judged j
                                 where j.loadable and j.duplicate_of is null
                                   and jsonb_typeof(j.stage -> 'products' -> 'product_cnt') = 'object'
                                offset 0) d) p
                returning product_id
            ),
            new_errors as (
                insert into test_mv.load_errors (lane, request_id, batch_id, reason, json_data)
                select p_lane, j.id, v_batch_id, j.problem, j.stage from judged j where j.problem is not null
                returning 1
            ),
            new_duplicates as (
                insert into test_mv.load_duplicates (lane, request_id, duplicate_of, batch_id)
                select p_lane, j.id, j.duplicate_of, v_batch_id from judged j where j.duplicate_of is not null
                returning 1
            ),
            advanced as (
                update test_mv.load_metadata m
                   set last_xid = l.landed_xid, last_request_id = l.id, last_date = l.date, last_hash = l.hash,
                       last_batch_id = v_batch_id, updated_at = v_now,
                       loaded_documents = m.loaded_documents + (select count(*) from new_clients),
                       rejected_documents = m.rejected_documents + (select count(*) from new_errors),
                       duplicate_documents = m.duplicate_documents + (select count(*) from new_duplicates)
                  from last_taken l
                 where m.lane = p_lane
                returning m.last_xid, m.last_request_id
            )
            select t.taken::integer, t.first_request_id, t.last_request_id, (select count(*) from new_clients)::integer,
                   (select count(*) from new_errors)::integer, (select count(*) from new_duplicates)::integer,
                   p.n::integer, a.n::integer, r.n::integer, m.last_xid, m.last_request_id, p.ids, a.ids, r.ids
              into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
                   v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products, v_batch.to_xid,
                   v_batch.to_request_id, v_batch.phone_ids, v_batch.address_ids, v_batch.product_ids
              from (select count(*) as taken, min(j.id) as first_request_id, max(j.id) as last_request_id from judged j) t
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
            if test_mv.is_environment_error(v_state) or v_take = 1 then
                raise;
            end if;
            v_take := v_take / 2;
        end;
    end loop;

    v_batch.batch_id        := v_batch_id;
    v_batch.from_xid        := v_position.last_xid;
    v_batch.from_request_id := v_position.last_request_id;
    v_batch.started_at      := v_started;
    v_batch.finished_at     := clock_timestamp();
    v_batch.batch_size      := p_batch_size;
    v_batch.kind            := 'load';
    v_batch.lane            := p_lane;
    v_batch.caller          := coalesce(nullif(current_setting('application_name'), ''), 'unnamed')
                           || ' (pid ' || pg_backend_pid() || ')';
    insert into test_mv.load_batches select v_batch.*;
    return v_batch;
end
$$;
revoke all on function test_mv.load_lane(integer, integer) from public;
select create_distributed_function('test_mv.load_lane(integer, integer)', 'p_lane',
                                   colocate_with => 'test_mv.landed_documents');

-- load_next_batch(batch_size) on the coordinator: the next lane with documents pending that no one holds, in the
-- order the lanes moved (a lane's batch, load_lane, planned here statement by statement: a call nested in a function
-- is not delegated to the worker). What CALL load_batch(n) runs; the service calls load_lane itself, delegated.
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
        v_batch := test_mv.load_lane(v_lane, p_batch_size);
        if v_batch.batch_id is not null then
            return v_batch;
        end if;
    end loop;
    return null;
end
$$;
revoke all on function test_mv.load_next_batch(integer) from public;

-- The trigger runs on the shards, on the workers (Citus makes it on each): citus.enable_unsafe_triggers lets a
-- trigger on a distributed table be made, since Citus cannot tell what it does; this one reads and writes only its
-- own row.
set local citus.enable_unsafe_triggers = on;
create or replace trigger tr_landed_documents_stamp
    before insert or update on test_mv.landed_documents
    for each row execute function test_mv.stamp_landed_xid();
