-- The rules of CONTRACT.md, section 1, twice: as one fast test (is_loadable) that every document of every batch
-- goes through, and as the diagnosis (document_problem) that only rejected documents go through, naming the first
-- broken rule. They must agree: document_problem(d) is null exactly when is_loadable(d); DocumentChecksTest holds
-- them to it on every malformation the generator knows and on thousands of randomly damaged documents.
-- Neither ever raises, so that no document can stop a batch.

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
create or replace function test_mv.is_loadable(p_document jsonb)
    returns boolean
    language sql immutable parallel safe
as $$
    select coalesce(
        jsonb_typeof(p_document) = 'object'
        and jsonb_path_exists(p_document,
                'strict $.application_id ? (@ == @.floor() && @ >= -2147483648 && @ <= 2147483647)',
                '{}', true)
        and case coalesce(jsonb_typeof(p_document -> 'phones'), 'null')
                when 'null' then true
                when 'array' then
                    not jsonb_path_exists(p_document, 'strict $.phones[*] ? (@.type() != "object" || !exists(@.*))',
                                          '{}', true)
                    and jsonb_array_length(jsonb_path_query_array(p_document, 'strict $.phones[*].*', '{}', true))
                        = jsonb_array_length(p_document -> 'phones')
                else false
            end
        and coalesce(not jsonb_path_exists(p_document, 'strict $.addresses[*] ? (@.type() != "object"
                         || (@.date != null && !(@.date.type() == "string" && @.date like_regex
                             "^(((0[1-9]|1[0-9]|2[0-8])-(0[1-9]|1[0-2])|(29|30)-(0[13-9]|1[0-2])|31-(0[13578]|1[02]))-([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])|29-02-([0-9]{2}(0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26]|0[48])00))$"))
                         || (@.address != null && @.address.type() != "object")
                         || (@.address.flat != null && !(@.address.flat.type() == "number"
                             && @.address.flat == @.address.flat.floor()
                             && @.address.flat >= -2147483648 && @.address.flat <= 2147483647)))', '{}', true),
                     coalesce(jsonb_typeof(p_document -> 'addresses'), 'null') = 'null')
        and case coalesce(jsonb_typeof(p_document -> 'products'), 'null')
                when 'null' then true
                when 'object' then
                    coalesce(not jsonb_path_exists(p_document, 'strict $.products.product_cnt.* ? (!(@.type() == "number"
                                 && @ == @.floor() && @ >= -2147483648 && @ <= 2147483647))', '{}', true),
                             coalesce(jsonb_typeof(p_document #> '{products,product_cnt}'), 'null') = 'null')
                    and coalesce(not jsonb_path_exists(p_document, 'strict $.products.product_cost.* ? (@ != null
                                     && !(@.type() == "number" && @ == @.floor()
                                          && @ >= -9223372036854775808 && @ <= 9223372036854775807))', '{}', true),
                                 coalesce(jsonb_typeof(p_document #> '{products,product_cost}'), 'null') = 'null')
                    and coalesce(jsonb_path_exists(p_document, 'strict $.products.total_sum ? (@ == null
                                     || (@.type() == "number" && @ == @.floor()
                                         && @ >= -9223372036854775808 && @ <= 9223372036854775807))', '{}', true),
                                 true)
                else false
            end,
        false)
$$;

-- The first rule the document breaks, in the order CONTRACT.md lists them, as a reason naming the field with
-- 0-based indexes ("addresses[1].date: ..."); null when it breaks none. Only rejected documents come here, so it
-- is written to be read rather than to be fast.
create or replace function test_mv.document_problem(p_document jsonb)
    returns text
    language plpgsql immutable parallel safe
as $$
declare
    v_phones   jsonb := p_document -> 'phones';
    v_addresses jsonb := p_document -> 'addresses';
    v_products jsonb := p_document -> 'products';
    v_element  jsonb;
    v_entry    record;
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
        for v_index in 0 .. jsonb_array_length(v_phones) - 1 loop
            v_element := v_phones -> v_index;
            if jsonb_typeof(v_element) <> 'object' or (select count(*) from jsonb_object_keys(v_element)) <> 1 then
                return format('phones[%s]: not an object with exactly one key', v_index);
            end if;
        end loop;
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
                return format('products.product_cnt.%s: not a JSON integer in the 32-bit range', v_entry.key);
            end if;
        end loop;
    end if;

    if jsonb_typeof(v_products -> 'product_cost') = 'object' then
        for v_entry in select key, value from jsonb_each(v_products -> 'product_cost') loop
            if jsonb_typeof(v_entry.value) <> 'null' and not test_mv.is_json_int8(v_entry.value) then
                return format('products.product_cost.%s: not null and not a JSON integer in the 64-bit range', v_entry.key);
            end if;
        end loop;
    end if;

    return null;
end
$$;
