-- load_next_batch(batch_size): loads the next batch_size landed documents, in one statement, and returns the
-- batch's figures (null when nothing was pending). load_batch(batch_size) is its CALL-able face.
-- Guarantee: every document taken ends up exactly once in clients (with its rows), load_errors or
-- load_duplicates, in the same transaction that advances load_metadata; concurrent callers queue on the
-- metadata row, so any number of them give the result of one.
create or replace function test_mv.load_next_batch(p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    -- Generic plans guess the batch at 10% of the landing table and pick scans and hash joins sized for that;
    -- a custom plan sees the real batch size every time.
    set plan_cache_mode = force_custom_plan
as $$
declare
    -- Every transaction older than this one's xmin has ended, so every row it landed is visible from here on;
    -- rows of younger transactions wait for a later batch. Taken before the lock: an older horizon stays true.
    v_horizon  xid8        := pg_snapshot_xmin(pg_current_snapshot());
    v_started  timestamptz := clock_timestamp();
    v_position test_mv.load_metadata;
    v_batch_id bigint;
    v_batch    test_mv.load_batches;
begin
    if p_batch_size is null or p_batch_size < 1 then
        raise exception 'load_batch: batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'null')
            using errcode = 'invalid_parameter_value',
                  hint = 'Call it as CALL load_batch(100).';
    end if;

    -- Serialises callers: a second one waits here, then reads the position the first one committed.
    select * into strict v_position from test_mv.load_metadata for update;
    v_batch_id := nextval('test_mv.load_batch_id_seq');

    with taken as materialized (
        select t.*, test_mv.document_problem(t.stage) as problem
          from (select s.id, s.stage, s.hash, s.date, s.landed_xid
                  from public.stage_json_with_date s
                 where (s.landed_xid, s.id) > (v_position.last_xid, v_position.last_request_id)
                   and s.landed_xid < v_horizon
                 order by s.landed_xid, s.id
                 limit p_batch_size) t
    ),
    judged as materialized (
        select t.id, t.stage, t.hash, t.date, t.landed_xid, t.problem,
               -- A valid document is a duplicate of a loaded one with the same hash, or of the first one in the batch.
               case when t.problem is null
                    then coalesce(c.request_id, nullif(first_value(t.id) over same_document, t.id)) end as duplicate_of
          from taken t
          left join test_mv.clients c on t.problem is null and c.document_hash = t.hash::uuid
        window same_document as (partition by t.hash, t.problem is null order by t.landed_xid, t.id)
    ),
    loaded as materialized (
        select j.id, j.stage, j.hash from judged j where j.problem is null and j.duplicate_of is null
    ),
    new_clients as (
        insert into test_mv.clients (request_id, application_id, document_hash, batch_id)
        select l.id, (l.stage ->> 'application_id')::integer, l.hash::uuid, v_batch_id
          from loaded l
        returning 1
    ),
    new_phones as (
        insert into test_mv.phones (request_id, position, type, number)
        select l.id, e.position, kv.key, kv.value #>> '{}'
          from loaded l
         cross join lateral jsonb_array_elements(case when jsonb_typeof(l.stage -> 'phones') = 'array'
                                                      then l.stage -> 'phones' end) with ordinality e(phone, position)
         cross join lateral jsonb_each(e.phone) kv
        returning 1
    ),
    new_addresses as (
        insert into test_mv.addresses (request_id, position, type, date, city, street, house, flat)
        select l.id, e.position, e.address ->> 'type', to_date(e.address ->> 'date', 'DD-MM-YYYY'),
               e.address #>> '{address,city}', e.address #>> '{address,street}', e.address #>> '{address,house}',
               (e.address #>> '{address,flat}')::integer
          from loaded l
         cross join lateral jsonb_array_elements(case when jsonb_typeof(l.stage -> 'addresses') = 'array'
                                                      then l.stage -> 'addresses' end) with ordinality e(address, position)
        returning 1
    ),
    new_products as (
        insert into test_mv.products (request_id, product_name, count, cost, total_sum)
        select l.id, p.key, p.value::integer,
               (l.stage #>> array['products', 'product_cost', p.key])::bigint,
               (l.stage #>> '{products,total_sum}')::bigint
          from loaded l
         cross join lateral jsonb_each(case when jsonb_typeof(l.stage #> '{products,product_cnt}') = 'object'
                                            then l.stage #> '{products,product_cnt}' end) p
        returning 1
    ),
    new_errors as (
        insert into test_mv.load_errors (request_id, batch_id, reason, json_data)
        select j.id, v_batch_id, j.problem, j.stage from judged j where j.problem is not null
        returning 1
    ),
    new_duplicates as (
        insert into test_mv.load_duplicates (request_id, duplicate_of, batch_id)
        select j.id, j.duplicate_of, v_batch_id from judged j where j.duplicate_of is not null
        returning 1
    ),
    advanced as (
        update test_mv.load_metadata m
           set last_xid = l.landed_xid, last_request_id = l.id, last_date = l.date, last_hash = l.hash,
               last_batch_id = v_batch_id, updated_at = now()
          from (select j.* from judged j order by j.landed_xid desc, j.id desc limit 1) l
        returning 1
    )
    insert into test_mv.load_batches (batch_id, started_at, finished_at, batch_size, taken, loaded, rejected, duplicates,
                                      phones, addresses, products, first_request_id, last_request_id, caller)
    select v_batch_id, v_started, clock_timestamp(), p_batch_size, count(*),
           (select count(*) from new_clients), (select count(*) from new_errors), (select count(*) from new_duplicates),
           (select count(*) from new_phones), (select count(*) from new_addresses), (select count(*) from new_products),
           min(j.id), max(j.id),
           coalesce(nullif(current_setting('application_name'), ''), 'unnamed') || ' (pid ' || pg_backend_pid() || ')'
      from judged j
    having count(*) > 0
    returning * into v_batch;

    return v_batch;
end
$$;

-- load_batch(batch_size): the procedure DBAs and schedulers CALL; see load_next_batch for what it guarantees.
create or replace procedure public.load_batch(p_batch_size integer default 100)
    language plpgsql
as $$
begin
    perform test_mv.load_next_batch(p_batch_size);
end
$$;
