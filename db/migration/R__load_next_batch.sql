-- load_next_batch(batch_size): loads the next batch_size landed documents, in one statement (and a second for the
-- run history), and returns the batch's figures (null when nothing was pending). load_batch(batch_size) is its
-- CALL-able face.
-- Guarantee: every document taken ends up exactly once in clients (with its rows), load_errors (with a reason
-- naming the field) or load_duplicates, in the same transaction that advances load_metadata; concurrent callers
-- queue on the metadata row, so any number of them give the result of one.
--
-- How: each document's arrays are exploded once, into rows that carry what is wrong with them (null when every
-- value fits its column); the values of product_cnt and product_cost are checked per document by jsonpath. A
-- document is loaded when nothing is wrong with it or its rows, and its rows are inserted from those same exploded
-- rows. The checks never raise, so a malformed document cannot stop a batch.
create or replace function test_mv.load_next_batch(p_batch_size integer)
    returns test_mv.load_batches
    language plpgsql
    -- The set-returning functions' default estimate (100 rows each) inflates the plan's cost past jit_above_cost,
    -- and compiling it would cost ~45 ms a batch, ten times the work of 100 documents.
    set jit = off
    -- Planning the batch statement costs ~0.9 ms, a tenth of a 100-document batch; so it is planned once a session
    -- (a generic plan), with its access paths pinned so that no parameter or statistic can turn it into a scan of
    -- the landing table: the position's index to take the batch, the unique index on document_hash to find
    -- duplicates, hash joins between the exploded rows (a nested loop over them would be quadratic).
    set plan_cache_mode = force_generic_plan
    set enable_seqscan = off
    set enable_bitmapscan = off
    set enable_nestloop = off
    -- Room to sort a batch of 10,000 documents in memory when judging duplicates.
    set work_mem = '32MB'
as $$
declare
    -- Every transaction below the horizon that could have landed a document here has ended, so every row it landed
    -- is visible from here on; rows of younger transactions wait for a later batch (see load_horizon). Taken
    -- before the lock: an older horizon stays true.
    v_horizon  xid8        := test_mv.load_horizon();
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
        select s.id, s.stage, s.hash, s.date, s.landed_xid,
               case
                   when jsonb_typeof(s.stage) <> 'object'
                       then 'document: not a JSON object'
                   when s.stage -> 'application_id' is null
                       then 'application_id: missing'
                   when not test_mv.is_json_int4(s.stage -> 'application_id')
                       then 'application_id: not a JSON integer in the 32-bit range'
                   when jsonb_typeof(s.stage -> 'phones') not in ('array', 'null')
                       then 'phones: not an array'
                   when jsonb_typeof(s.stage -> 'addresses') not in ('array', 'null')
                       then 'addresses: not an array'
                   when jsonb_typeof(s.stage -> 'products') not in ('object', 'null')
                       then 'products: not an object'
                   when jsonb_typeof(s.stage #> '{products,product_cnt}') not in ('object', 'null')
                       then 'products.product_cnt: not an object'
                   when jsonb_typeof(s.stage #> '{products,product_cost}') not in ('object', 'null')
                       then 'products.product_cost: not an object'
                   when jsonb_typeof(s.stage #> '{products,total_sum}') <> 'null'
                        and not test_mv.is_json_int8(s.stage #> '{products,total_sum}')
                       then 'products.total_sum: not null and not a JSON integer in the 64-bit range'
               end as problem,
               -- The values of product_cnt and product_cost: one jsonpath pass each finds the first bad key.
               case when jsonb_typeof(s.stage #> '{products,product_cnt}') = 'object' then
                   'products.product_cnt.' || (jsonb_path_query_first(s.stage #> '{products,product_cnt}',
                       '$.keyvalue() ? (!(@.value.type() == "number" && @.value == @.value.floor()
                            && @.value >= -2147483648 && @.value <= 2147483647)).key') #>> '{}')
                   || ': not a JSON integer in the 32-bit range'
               end as count_problem,
               case when jsonb_typeof(s.stage #> '{products,product_cost}') = 'object' then
                   'products.product_cost.' || (jsonb_path_query_first(s.stage #> '{products,product_cost}',
                       '$.keyvalue() ? (@.value != null && !(@.value.type() == "number" && @.value == @.value.floor()
                            && @.value >= -9223372036854775808 && @.value <= 9223372036854775807)).key') #>> '{}')
                   || ': not null and not a JSON integer in the 64-bit range'
               end as cost_problem
          from (select s.id, s.stage, s.hash, s.date, s.landed_xid
                  from public.stage_json_with_date s
                 where (s.landed_xid, s.id) > (v_position.last_xid, v_position.last_request_id)
                   and s.landed_xid < v_horizon
                 order by s.landed_xid, s.id
                 limit p_batch_size) s
    ),
    phone_rows as materialized (
        -- strict keyvalue() of an object gives its keys; of anything else, nothing (silently).
        select t.id, e.position, jsonb_path_query_array(e.phone, 'strict $.keyvalue()', '{}', true) as entries
          from taken t
         cross join lateral jsonb_array_elements(case when jsonb_typeof(t.stage -> 'phones') = 'array'
                                                      then t.stage -> 'phones' end) with ordinality e(phone, position)
    ),
    address_rows as materialized (
        select t.id, e.position, e.address ->> 'type' as type, e.address ->> 'date' as date,
               e.address #>> '{address,city}' as city, e.address #>> '{address,street}' as street,
               e.address #>> '{address,house}' as house, e.address #>> '{address,flat}' as flat,
               case
                   when jsonb_typeof(e.address) <> 'object'
                       then format('addresses[%s]: not an object', e.position - 1)
                   when jsonb_typeof(e.address -> 'date') <> 'null'
                        and (jsonb_typeof(e.address -> 'date') <> 'string'
                             or not test_mv.is_dd_mm_yyyy(e.address ->> 'date'))
                       then format('addresses[%s].date: not null and not a real date written DD-MM-YYYY', e.position - 1)
                   when jsonb_typeof(e.address -> 'address') not in ('object', 'null')
                       then format('addresses[%s].address: not null and not an object', e.position - 1)
                   when jsonb_typeof(e.address #> '{address,flat}') <> 'null'
                        and not test_mv.is_json_int4(e.address #> '{address,flat}')
                       then format('addresses[%s].address.flat: not null and not a JSON integer in the 32-bit range',
                                   e.position - 1)
               end as problem
          from taken t
         cross join lateral jsonb_array_elements(case when jsonb_typeof(t.stage -> 'addresses') = 'array'
                                                      then t.stage -> 'addresses' end) with ordinality e(address, position)
    ),
    product_rows as materialized (
        select t.id, p.key as product_name, p.value as count
          from taken t
         cross join lateral jsonb_each(case when jsonb_typeof(t.stage #> '{products,product_cnt}') = 'object'
                                            then t.stage #> '{products,product_cnt}' end) p
    ),
    -- The first problem of each malformed document, in the order CONTRACT.md lists the rules.
    first_problem as (
        select distinct on (x.id) x.id, x.problem
          from (select t.id, t.problem, 0 as rule, 0::bigint as position from taken t where t.problem is not null
                union all
                select p.id, format('phones[%s]: not an object with exactly one key', p.position - 1), 1, p.position
                  from phone_rows p where jsonb_array_length(p.entries) <> 1
                union all
                select a.id, a.problem, 2, a.position from address_rows a where a.problem is not null
                union all
                select t.id, t.count_problem, 3, 0 from taken t where t.count_problem is not null
                union all
                select t.id, t.cost_problem, 4, 0 from taken t where t.cost_problem is not null) x
         order by x.id, x.rule, x.position, x.problem
    ),
    judged as materialized (
        select t.id, t.stage, t.hash, t.date, t.landed_xid, f.problem,
               -- A valid document is a duplicate of a loaded one with the same hash (an index probe, whatever the
               -- plan), or of the first one with that hash in this batch.
               case when f.problem is null
                    then coalesce((select c.request_id from test_mv.clients c where c.document_hash = t.hash::uuid),
                                  nullif(first_value(t.id) over same_document, t.id)) end as duplicate_of
          from taken t
          left join first_problem f on f.id = t.id
        window same_document as (partition by t.hash, f.problem is null order by t.landed_xid, t.id)
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
        select p.id, p.position, p.entries -> 0 ->> 'key', p.entries -> 0 -> 'value' #>> '{}'
          from phone_rows p
          join loaded l on l.id = p.id
        returning 1
    ),
    new_addresses as (
        insert into test_mv.addresses (request_id, position, type, date, city, street, house, flat)
        select a.id, a.position, a.type, to_date(a.date, 'DD-MM-YYYY'), a.city, a.street, a.house, a.flat::integer
          from address_rows a
          join loaded l on l.id = a.id
        returning 1
    ),
    new_products as (
        insert into test_mv.products (request_id, product_name, count, cost, total_sum)
        select p.id, p.product_name, p.count::integer,
               (l.stage #>> array['products', 'product_cost', p.product_name])::bigint,
               (l.stage #>> '{products,total_sum}')::bigint
          from product_rows p
          join loaded l on l.id = p.id
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
    select t.taken::integer, t.first_request_id, t.last_request_id, w.loaded::integer, w.rejected::integer,
           w.duplicates::integer, w.phones::integer, w.addresses::integer, w.products::integer
      into v_batch.taken, v_batch.first_request_id, v_batch.last_request_id, v_batch.loaded, v_batch.rejected,
           v_batch.duplicates, v_batch.phones, v_batch.addresses, v_batch.products
      from (select count(*) as taken, min(j.id) as first_request_id, max(j.id) as last_request_id from judged j) t
     cross join (select (select count(*) from new_clients) as loaded, (select count(*) from new_errors) as rejected,
                        (select count(*) from new_duplicates) as duplicates, (select count(*) from new_phones) as phones,
                        (select count(*) from new_addresses) as addresses, (select count(*) from new_products) as products) w;

    if v_batch.taken = 0 then
        return null;
    end if;
    -- A statement of its own, so that finished_at comes after the foreign-key checks of the rows, which run when
    -- the statement that wrote them ends (a third of a batch's time).
    v_batch.batch_id    := v_batch_id;
    v_batch.started_at  := v_started;
    v_batch.finished_at := clock_timestamp();
    v_batch.batch_size  := p_batch_size;
    v_batch.caller      := coalesce(nullif(current_setting('application_name'), ''), 'unnamed')
                           || ' (pid ' || pg_backend_pid() || ')';
    insert into test_mv.load_batches select v_batch.*;

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
