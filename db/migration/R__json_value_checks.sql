-- The value checks load_next_batch applies to documents (CONTRACT.md, section 1): pure, never raising, so that a
-- malformed value is a rejection and never an error that stops a batch.
--
-- Written in SQL and declared STABLE so that the planner inlines them into load_next_batch's statement (to_char is
-- STABLE, and an IMMUTABLE body calling it is never inlined: it would run as a function call per value).

-- True when p_value is a JSON number with no fractional part between p_min and p_max.
create or replace function test_mv.is_json_integer(p_value jsonb, p_min numeric, p_max numeric)
    returns boolean
    language sql stable parallel safe
as $$
    select case
               when jsonb_typeof(p_value) is distinct from 'number' then false
               when scale(p_value::numeric) <> 0 then false
               else p_value::numeric between p_min and p_max
           end
$$;

-- True when p_text is a real calendar date written exactly DD-MM-YYYY (never raises, unlike to_date); null for null.
create or replace function test_mv.is_dd_mm_yyyy(p_text text)
    returns boolean
    language sql stable parallel safe
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
