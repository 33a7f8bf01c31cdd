-- document_problem(doc): why a document cannot be loaded, or null when it can (CONTRACT.md, section 1).
-- Guarantee: every value the load stores fits its column when this returns null, so no document can make a
-- batch fail; a rejection names the field (`addresses[1].date`), counting array elements from 0.
--
-- Written in SQL, not PL/pgSQL, so that the planner inlines it into load_next_batch's statement. Its two helpers
-- live here because the function body is checked against them when it is created.

-- True when p_value is a JSON number with no fractional part between p_min and p_max.
create or replace function test_mv.is_json_integer(p_value jsonb, p_min numeric, p_max numeric)
    returns boolean
    language sql immutable parallel safe
as $$
    select case
               when jsonb_typeof(p_value) is distinct from 'number' then false
               when scale(p_value::numeric) <> 0 then false
               else p_value::numeric between p_min and p_max
           end
$$;

-- True when p_text is a real calendar date written exactly DD-MM-YYYY (never raises, unlike to_date).
create or replace function test_mv.is_dd_mm_yyyy(p_text text)
    returns boolean
    language sql immutable strict parallel safe
as $$
    select case
               when p_text !~ '^[0-9]{2}-[0-9]{2}-[0-9]{4}$' then false
               when substr(p_text, 4, 2)::integer not between 1 and 12 then false
               when substr(p_text, 7, 4)::integer < 1 then false
               when substr(p_text, 1, 2)::integer < 1 then false
               -- A day past the month's end rolls into the next month, and the text no longer matches.
               else to_char(make_date(substr(p_text, 7, 4)::integer, substr(p_text, 4, 2)::integer, 1)
                                + (substr(p_text, 1, 2)::integer - 1), 'DD-MM-YYYY') = p_text
           end
$$;

create or replace function test_mv.document_problem(p_doc jsonb)
    returns text
    language sql immutable parallel safe
as $$
    select case
        when jsonb_typeof(p_doc) is distinct from 'object'
            then 'document: not a JSON object'
        when p_doc -> 'application_id' is null
            then 'application_id: missing'
        when not test_mv.is_json_integer(p_doc -> 'application_id', -2147483648, 2147483647)
            then 'application_id: not a JSON integer in the 32-bit range'
        when jsonb_typeof(p_doc -> 'phones') not in ('array', 'null')
            then 'phones: not an array'
        when jsonb_typeof(p_doc -> 'addresses') not in ('array', 'null')
            then 'addresses: not an array'
        when jsonb_typeof(p_doc -> 'products') not in ('object', 'null')
            then 'products: not an object'
        when jsonb_typeof(p_doc #> '{products,product_cnt}') not in ('object', 'null')
            then 'products.product_cnt: not an object'
        when jsonb_typeof(p_doc #> '{products,product_cost}') not in ('object', 'null')
            then 'products.product_cost: not an object'
        when jsonb_typeof(p_doc #> '{products,total_sum}') <> 'null'
             and not test_mv.is_json_integer(p_doc #> '{products,total_sum}', -9223372036854775808, 9223372036854775807)
            then 'products.total_sum: not null and not a JSON integer in the 64-bit range'
        else coalesce(
            (select format('phones[%s]: not an object with exactly one key', e.position - 1)
               from jsonb_array_elements(case when jsonb_typeof(p_doc -> 'phones') = 'array'
                                              then p_doc -> 'phones' end) with ordinality e(phone, position)
              where case when jsonb_typeof(e.phone) <> 'object' then true
                         else (select count(*) from jsonb_object_keys(e.phone)) <> 1 end
              order by e.position
              limit 1),
            (select format('addresses[%s]%s', e.position - 1, case
                        when jsonb_typeof(e.address) <> 'object'
                            then ': not an object'
                        when jsonb_typeof(e.address -> 'date') <> 'null'
                             and (jsonb_typeof(e.address -> 'date') <> 'string'
                                  or not test_mv.is_dd_mm_yyyy(e.address ->> 'date'))
                            then '.date: not null and not a real date written DD-MM-YYYY'
                        when jsonb_typeof(e.address -> 'address') not in ('object', 'null')
                            then '.address: not null and not an object'
                        when jsonb_typeof(e.address #> '{address,flat}') <> 'null'
                             and not test_mv.is_json_integer(e.address #> '{address,flat}', -2147483648, 2147483647)
                            then '.address.flat: not null and not a JSON integer in the 32-bit range'
                    end)
               from jsonb_array_elements(case when jsonb_typeof(p_doc -> 'addresses') = 'array'
                                              then p_doc -> 'addresses' end) with ordinality e(address, position)
              where jsonb_typeof(e.address) <> 'object'
                 or (jsonb_typeof(e.address -> 'date') <> 'null'
                     and (jsonb_typeof(e.address -> 'date') <> 'string' or not test_mv.is_dd_mm_yyyy(e.address ->> 'date')))
                 or jsonb_typeof(e.address -> 'address') not in ('object', 'null')
                 or (jsonb_typeof(e.address #> '{address,flat}') <> 'null'
                     and not test_mv.is_json_integer(e.address #> '{address,flat}', -2147483648, 2147483647))
              order by e.position
              limit 1),
            (select format('products.product_cnt.%s: not a JSON integer in the 32-bit range', c.key)
               from jsonb_each(case when jsonb_typeof(p_doc #> '{products,product_cnt}') = 'object'
                                    then p_doc #> '{products,product_cnt}' end) c
              where not test_mv.is_json_integer(c.value, -2147483648, 2147483647)
              order by c.key
              limit 1),
            (select format('products.product_cost.%s: not null and not a JSON integer in the 64-bit range', c.key)
               from jsonb_each(case when jsonb_typeof(p_doc #> '{products,product_cost}') = 'object'
                                    then p_doc #> '{products,product_cost}' end) c
              where jsonb_typeof(c.value) <> 'null'
                and not test_mv.is_json_integer(c.value, -9223372036854775808, 9223372036854775807)
              order by c.key
              limit 1))
    end
$$;
