-- The rules of docs/specification.md (When a document is rejected), twice: as one fast test (is_loadable) that
-- every document of every batch goes through, and as the diagnosis (document_problem) that only rejected documents
-- go through, naming the first broken rule. They must agree: document_problem(d) is null exactly when
-- is_loadable(d); DocumentChecksTest holds them to it on every malformation the generator knows and on thousands of
-- randomly damaged documents.
-- Beyond the contract's rules, the limits of what PostgreSQL can store (document_limit_problem) reject a document
-- with a reason before it could fail a batch. Nothing here ever raises, so that no document can stop a batch.
-- The checks that look at how a document is stored (pg_column_size) are stable, as that function is; the rest
-- are immutable. Every routine here is pinned to pg_catalog, so that no function or operator planted in another
-- schema can stand in for a built-in; is_loadable and document_md5 qualify every name instead, since a SET clause
-- would stop their inlining.

-- True when the document's text form (stage::text, what md5 hashes) surely stays under PostgreSQL's 1 GB limit for
-- a value, decided without building it: building it to find out takes seconds and a gigabyte when it does not fit.
-- The text of a jsonb value is at most 6 times its binary size (a control character, 1 byte, is written \u00XX),
-- except for numbers, which keep their digits: 1e131071 takes a few bytes and prints 131,072 digits. So: at most
-- 32 kB of binary (no number prints more than ~18,500 characters a stored byte), or 6 times the size plus a bound
-- for every number's digits under the limit.
create or replace function test_mv.text_form_fits(p_document jsonb)
    returns boolean
    language sql stable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    -- #> '{}' hands back the document itself, decompressed: its size is the binary size, not the stored one.
    -- The numbers are gathered into one array (jsonb_path_query would hand over each by deleting the first of a
    -- list: quadratic).
    select d.size <= 32768
           or 6 * d.size + coalesce((select sum(case when abs(v.number::numeric) < 1e100 then 102 else 131074 end
                                                + scale(v.number::numeric))
                                       from jsonb_array_elements(jsonb_path_query_array(p_document,
                                                'strict $.** ? (@.type() == "number")')) as v(number)), 0)
              < 1073741823 - 1048576
      from (select pg_column_size(p_document #> '{}')::bigint as size) d
$$;

-- The md5 of the document's text, as stage_json_with_date shows it; null when that text would exceed PostgreSQL's
-- 1 GB limit (such a document is rejected, see document_limit_problem), so that reading the stage never raises.
-- SQL with every name qualified rather than a SET clause, and stable like is_loadable, so that it is inlined: the
-- view and every batch use it.
-- The 32 kB bound is text_form_fits's quick answer: keep the two in step.
create or replace function test_mv.document_md5(p_document jsonb)
    returns text
    language sql stable parallel safe
as $$
    select case when pg_catalog.pg_column_size(p_document) operator(pg_catalog.<=) 32768
                     and pg_catalog.pg_column_compression(p_document) is null
                     or test_mv.text_form_fits(p_document)
                then pg_catalog.md5(p_document::pg_catalog.text) end
$$;

-- A key as a reason shows it: at most 60 characters, so that a huge key cannot make a huge reason.
create or replace function test_mv.shown_key(p_key text)
    returns text
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    select case when length(p_key) <= 60 then p_key else left(p_key, 57) || '...' end
$$;

-- What in the document PostgreSQL could not store, index or hash, as a reason; null when nothing. The limits:
-- - a product name (a key of product_cnt) of at most 2,000 bytes, so that it stays indexable: a btree entry holds at
--   most ~2,700 bytes, and a name that no index can hold would break a DBA's index on it, or the loader once it is
--   there (keep in step with the 2,000-byte bound in is_loadable);
-- - a text form under 1 GB (text_form_fits), so that the document has the md5 its stage row shows.
create or replace function test_mv.document_limit_problem(p_document jsonb)
    returns text
    language plpgsql stable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_counts jsonb := p_document #> '{products,product_cnt}';
    v_name   text;
begin
    if jsonb_typeof(v_counts) = 'object' then
        select k.name into v_name from jsonb_object_keys(v_counts) as k(name) where octet_length(k.name) > 2000 limit 1;
        if v_name is not null then
            return format('products.product_cnt.%s: a product name of %s bytes, longer than the 2000 bytes allowed',
                          test_mv.shown_key(v_name), octet_length(v_name));
        end if;
    end if;
    if not test_mv.text_form_fits(p_document) then
        return 'document: its text form would exceed PostgreSQL''s 1 GB limit (numbers of thousands of digits, or'
               ' over 170 MB in all), so it cannot have the md5 hash its stage row shows';
    end if;
    return null;
end
$$;

-- True when the document can be loaded: every rule holds. SQL, so that the planner inlines it into the batch
-- statement; one jsonpath call per part of the document (two for the phones), each looking at the whole part at
-- once (cheaper than exploding the arrays into rows to look at them: the batch only explodes the documents it loads).
-- The calls are strict and silent: inside a filter a missing key makes the filter unknown, so "? (bad)" finds only
-- present, bad values; outside a filter (a missing or mistyped part) the call returns null, and the coalesce then
-- says whether the part may be missing or null.
-- "@ != null" rather than '@.type() != "null"': comparing a present value with null is never unknown, and costs
-- less. Where a value must be good for the document to pass (application_id), a non-number needs no type test:
-- .floor() fails on it, the filter is unknown, and nothing is found.
-- Phones: every element a non-empty object, and as many member values in all as there are elements, so exactly one
-- key each (counting keys with keyvalue() builds an object per key: four times slower).
-- The date pattern is is_dd_mm_yyyy's rule (R__json_value_checks.sql) as a regex: keep the two in step.
-- Last, the limits: a document stored in at most 2,000 bytes, uncompressed, cannot break any of them (keep this
-- bound in step with document_limit_problem's), so only larger ones pay for the look. Stable, not immutable, like
-- pg_column_size, which looks at how the value is stored: the planner inlines an immutable function only when
-- everything in it is immutable, and inlining is what makes this test cheap.
create or replace function test_mv.is_loadable(p_document jsonb)
    returns boolean
    language sql stable parallel safe
as $$
    select coalesce(
        pg_catalog.jsonb_typeof(p_document) operator(pg_catalog.=) 'object'
        and pg_catalog.jsonb_path_exists(p_document,
                'strict $.application_id ? (@ == @.floor() && @ >= -2147483648 && @ <= 2147483647)',
                '{}', true)
        and case coalesce(pg_catalog.jsonb_typeof(p_document operator(pg_catalog.->) 'phones'), 'null')
                when 'null' then true
                when 'array' then
                    not pg_catalog.jsonb_path_exists(p_document,
                            'strict $.phones[*] ? (@.type() != "object" || !exists(@.*))', '{}', true)
                    and pg_catalog.jsonb_array_length(
                            pg_catalog.jsonb_path_query_array(p_document, 'strict $.phones[*].*', '{}', true))
                        operator(pg_catalog.=)
                        pg_catalog.jsonb_array_length(p_document operator(pg_catalog.->) 'phones')
                else false
            end
        and coalesce(not pg_catalog.jsonb_path_exists(p_document, 'strict $.addresses[*] ? (@.type() != "object"
                         || (@.date != null && !(@.date.type() == "string" && @.date like_regex
                             "^(((0[1-9]|1[0-9]|2[0-8])-(0[1-9]|1[0-2])|(29|30)-(0[13-9]|1[0-2])|31-(0[13578]|1[02]))-([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])|29-02-([0-9]{2}(0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26]|0[48])00))$"))
                         || (@.address != null && @.address.type() != "object")
                         || (@.address.flat != null && !(@.address.flat.type() == "number"
                             && @.address.flat == @.address.flat.floor()
                             && @.address.flat >= -2147483648 && @.address.flat <= 2147483647)))', '{}', true),
                     coalesce(pg_catalog.jsonb_typeof(p_document operator(pg_catalog.->) 'addresses'), 'null')
                         operator(pg_catalog.=) 'null')
        and case coalesce(pg_catalog.jsonb_typeof(p_document operator(pg_catalog.->) 'products'), 'null')
                when 'null' then true
                when 'object' then
                    coalesce(not pg_catalog.jsonb_path_exists(p_document, 'strict $.products.product_cnt.* ? (!(@.type() == "number"
                                 && @ == @.floor() && @ >= -2147483648 && @ <= 2147483647))', '{}', true),
                             coalesce(pg_catalog.jsonb_typeof(p_document operator(pg_catalog.#>) '{products,product_cnt}'),
                                      'null') operator(pg_catalog.=) 'null')
                    and coalesce(not pg_catalog.jsonb_path_exists(p_document, 'strict $.products.product_cost.* ? (@ != null
                                     && !(@.type() == "number" && @ == @.floor()
                                          && @ >= -9223372036854775808 && @ <= 9223372036854775807))', '{}', true),
                                 coalesce(pg_catalog.jsonb_typeof(p_document operator(pg_catalog.#>) '{products,product_cost}'),
                                          'null') operator(pg_catalog.=) 'null')
                    and coalesce(pg_catalog.jsonb_path_exists(p_document, 'strict $.products.total_sum ? (@ == null
                                     || (@.type() == "number" && @ == @.floor()
                                         && @ >= -9223372036854775808 && @ <= 9223372036854775807))', '{}', true),
                                 true)
                else false
            end
        and (pg_catalog.pg_column_size(p_document) operator(pg_catalog.<=) 2000
             and pg_catalog.pg_column_compression(p_document) is null
             or test_mv.document_limit_problem(p_document) is null),
        false)
$$;

-- The first rule the document breaks, in the order docs/specification.md lists them, as a reason naming the field
-- with 0-based indexes ("addresses[1].date: ..."); then the limits (document_limit_problem); null when it breaks none.
-- Only rejected documents come here, so it is written to be read rather than to be fast; but every part is looked
-- at once, so that its time grows with the document's size, not with its square.
create or replace function test_mv.document_problem(p_document jsonb)
    returns text
    language plpgsql stable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_phones    jsonb := p_document -> 'phones';
    v_addresses jsonb := p_document -> 'addresses';
    v_products  jsonb := p_document -> 'products';
    v_element   jsonb;
    v_bad       bigint;
    v_entry     record;
begin
    if jsonb_typeof(p_document) is distinct from 'object' then
        return 'document: not a JSON object';
    elsif not p_document ? 'application_id' then
        return 'application_id: missing';
    elsif not test_mv.is_json_int4(p_document -> 'application_id') then
        return 'application_id: not a JSON integer in the 32-bit range';
    elsif jsonb_typeof(v_phones) not in ('array', 'null') then
        return 'phones: not an array';
    elsif jsonb_typeof(v_addresses) not in ('array', 'null') then
        return 'addresses: not an array';
    elsif jsonb_typeof(v_products) not in ('object', 'null') then
        return 'products: not an object';
    elsif jsonb_typeof(v_products -> 'product_cnt') not in ('object', 'null') then
        return 'products.product_cnt: not an object';
    elsif jsonb_typeof(v_products -> 'product_cost') not in ('object', 'null') then
        return 'products.product_cost: not an object';
    elsif jsonb_typeof(v_products -> 'total_sum') <> 'null' and not test_mv.is_json_int8(v_products -> 'total_sum') then
        return 'products.total_sum: not null and not a JSON integer in the 64-bit range';
    end if;

    if jsonb_typeof(v_phones) = 'array' then
        select e.position - 1 into v_bad
          from jsonb_array_elements(v_phones) with ordinality as e(phone, position)
         where case when jsonb_typeof(e.phone) <> 'object' then true
                    else (select count(*) from jsonb_object_keys(e.phone)) <> 1 end
         order by e.position
         limit 1;
        if v_bad is not null then
            return format('phones[%s]: not an object with exactly one key', v_bad);
        end if;
    end if;

    if jsonb_typeof(v_addresses) = 'array' then
        for v_index in 0 .. jsonb_array_length(v_addresses) - 1 loop
            v_element := v_addresses -> v_index;
            if jsonb_typeof(v_element) <> 'object' then
                return format('addresses[%s]: not an object', v_index);
            elsif jsonb_typeof(v_element -> 'date') <> 'null'
                  and (jsonb_typeof(v_element -> 'date') <> 'string'
                       or not test_mv.is_dd_mm_yyyy(v_element ->> 'date')) then
                return format('addresses[%s].date: not null and not a real date written DD-MM-YYYY', v_index);
            elsif jsonb_typeof(v_element -> 'address') not in ('object', 'null') then
                return format('addresses[%s].address: not null and not an object', v_index);
            elsif jsonb_typeof(v_element #> '{address,flat}') <> 'null'
                  and not test_mv.is_json_int4(v_element #> '{address,flat}') then
                return format('addresses[%s].address.flat: not null and not a JSON integer in the 32-bit range', v_index);
            end if;
        end loop;
    end if;

    if jsonb_typeof(v_products -> 'product_cnt') = 'object' then
        for v_entry in select key, value from jsonb_each(v_products -> 'product_cnt') loop
            if not test_mv.is_json_int4(v_entry.value) then
                return format('products.product_cnt.%s: not a JSON integer in the 32-bit range',
                              test_mv.shown_key(v_entry.key));
            end if;
        end loop;
    end if;

    if jsonb_typeof(v_products -> 'product_cost') = 'object' then
        for v_entry in select key, value from jsonb_each(v_products -> 'product_cost') loop
            if jsonb_typeof(v_entry.value) <> 'null' and not test_mv.is_json_int8(v_entry.value) then
                return format('products.product_cost.%s: not null and not a JSON integer in the 64-bit range',
                              test_mv.shown_key(v_entry.key));
            end if;
        end loop;
    end if;

    return test_mv.document_limit_problem(p_document);
end
$$;
