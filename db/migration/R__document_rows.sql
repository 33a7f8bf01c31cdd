-- The decomposition of a document into rows, written once: what phones, addresses and products a loadable document
-- (is_loadable) maps to, as the specification's mapping says (docs/specification.md). Every statement that writes
-- rows (write_batch for each kind of work on one server; load_lane on Citus) takes them from here, and differs from
-- the others only in where its documents come from and what else it records.
--
-- SQL set-returning functions without a SET clause, so that the planner inlines each into the statement that calls
-- it (FROM ... CROSS JOIN LATERAL test_mv.phone_rows(j.stage)): no function call a document, and the same plan as
-- the mapping written out in place. For the same reason every name in them is qualified (operators too), so that no
-- search path can put another function in their place. Each part of the document is taken out once (OFFSET 0): an
-- expression beside a set-returning function is evaluated again for each of its rows, and a part of n elements
-- would be copied n times.

-- phone_rows(document): one row a phone: its position in the array (from 1), its type (the phone's one key) and its
-- number (that key's value as text; null for a JSON null). None when phones is not an array.
create or replace function test_mv.phone_rows(p_document jsonb)
    returns table ("position" integer, type text, number text)
    language sql
    immutable
    parallel safe
as $$
    select e.position, e.type, e.phone operator(pg_catalog.->>) e.type
      from (select l.index operator(pg_catalog.+) 1 as position, l.phone, pg_catalog.jsonb_object_keys(l.phone) as type
              from (select d.phones operator(pg_catalog.->) g.index as phone, g.index
                      from (select p_document operator(pg_catalog.->) 'phones' as phones offset 0) d,
                           pg_catalog.generate_series(0, case when pg_catalog.jsonb_typeof(d.phones) operator(pg_catalog.=) 'array'
                                                              then pg_catalog.jsonb_array_length(d.phones) operator(pg_catalog.-) 1
                                                              else -1 end) as g(index)
                    offset 0) l
            offset 0) e
$$;

-- address_rows(document): one row an address: its position (from 1), type, date (DD-MM-YYYY), and the fields of its
-- address object (all null when the address is null). None when addresses is not an array. Stable, as to_date is.
create or replace function test_mv.address_rows(p_document jsonb)
    returns table ("position" integer, type text, date date, city text, street text, house text, flat integer)
    language sql
    stable
    parallel safe
as $$
    select a.position::integer, a.type, pg_catalog.to_date(a.date, 'DD-MM-YYYY'),
           a.address operator(pg_catalog.->>) 'city', a.address operator(pg_catalog.->>) 'street',
           a.address operator(pg_catalog.->>) 'house', (a.address operator(pg_catalog.->>) 'flat')::numeric::integer
      from rows from (pg_catalog.jsonb_to_recordset(
                          case when pg_catalog.jsonb_typeof(p_document operator(pg_catalog.->) 'addresses') operator(pg_catalog.=) 'array'
                               then p_document operator(pg_catalog.->) 'addresses' end)
                      as (type text, date text, address jsonb)) with ordinality as a(type, date, address, position)
$$;

-- product_rows(document): one row a name of products.product_cnt: the name, its count, its cost in product_cost
-- (null when absent or null) and the document's total_sum. The values are cast from jsonb directly: right for any
-- integral number is_loadable lets in (2.0, 1e2). None when product_cnt is not an object.
create or replace function test_mv.product_rows(p_document jsonb)
    returns table (product_name text, count integer, cost bigint, total_sum bigint)
    language sql
    immutable
    parallel safe
as $$
    select p.name, (p.counts operator(pg_catalog.->) p.name)::integer,
           nullif(p.costs operator(pg_catalog.->) p.name, 'null'::jsonb)::bigint, p.total_sum
      from (select d.counts, d.costs, d.total_sum, pg_catalog.jsonb_object_keys(d.counts) as name
              from (select p_document operator(pg_catalog.#>) '{products,product_cnt}' as counts,
                           p_document operator(pg_catalog.#>) '{products,product_cost}' as costs,
                           nullif(p_document operator(pg_catalog.#>) '{products,total_sum}', 'null'::jsonb)::bigint as total_sum
                    offset 0) d
             where pg_catalog.jsonb_typeof(d.counts) operator(pg_catalog.=) 'object'
            offset 0) p
$$;
