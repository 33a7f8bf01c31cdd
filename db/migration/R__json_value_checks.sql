-- Value predicates for document_problem (R__document_checks.sql), the diagnosis of a rejected document: pure and
-- never raising, so that a malformed value is a reason and never an error that stops a batch. The batch's own test,
-- is_loadable, writes the same rules as jsonpath over whole parts of a document; DocumentChecksTest holds the two
-- to one verdict.

-- Strict: in lax mode jsonpath looks inside arrays, and [1] would pass for the number 1.

-- True when p_value is a JSON number with no fractional part in the 32-bit range.
create or replace function test_mv.is_json_int4(p_value jsonb)
    returns boolean
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    select coalesce(jsonb_path_exists(p_value,
        'strict $ ? (@.type() == "number" && @ == @.floor() && @ >= -2147483648 && @ <= 2147483647)'), false)
$$;

-- True when p_value is a JSON number with no fractional part in the 64-bit range.
create or replace function test_mv.is_json_int8(p_value jsonb)
    returns boolean
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    select coalesce(jsonb_path_exists(p_value,
        'strict $ ? (@.type() == "number" && @ == @.floor() && @ >= -9223372036854775808 && @ <= 9223372036854775807)'), false)
$$;

-- True when p_text is a real calendar date written exactly DD-MM-YYYY (never raises, unlike to_date); null for null.
create or replace function test_mv.is_dd_mm_yyyy(p_text text)
    returns boolean
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
    select case
               when p_text !~ '^[0-9]{2}-[0-9]{2}-[0-9]{4}$' then false
               else substr(p_text, 4, 2)::integer between 1 and 12
                    and substr(p_text, 7, 4)::integer >= 1
                    and substr(p_text, 1, 2)::integer between 1 and
                        case when substr(p_text, 4, 2) in ('04', '06', '09', '11') then 30
                             when substr(p_text, 4, 2) <> '02' then 31
                             when substr(p_text, 7, 4)::integer % 4 = 0
                                  and (substr(p_text, 7, 4)::integer % 100 <> 0 or substr(p_text, 7, 4)::integer % 400 = 0)
                                 then 29
                             else 28
                        end
           end
$$;
