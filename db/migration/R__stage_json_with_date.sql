-- The stage: each landed document as the original design's stage table showed it (json_data_hash, date, json_data),
-- beside the columns the loader and its users had before (id, stage, hash, landed_at, landed_xid; hash and stage are
-- json_data_hash and json_data under their earlier names, kept so that queries written against them still run).
-- Re-created in place, so that the grants on it stay; selecting it never raises, whatever was landed.

-- The date of the document's first address, parsed from DD-MM-YYYY; null when it has no addresses, or the first has
-- no date or one that is not a real DD-MM-YYYY date (is_dd_mm_yyyy). The original took it with to_date, which raises.
create or replace function test_mv.first_address_date(p_document jsonb)
    returns date
    language plpgsql stable parallel safe
    set search_path = pg_catalog, pg_temp
as $$
declare
    v_text text;
begin
    -- PL/pgSQL rather than SQL: a SQL function with a SET clause is planned again at every call, and every batch
    -- calls this one.
    if jsonb_typeof(p_document -> 'addresses') = 'array'
       and jsonb_typeof(p_document #> '{addresses,0,date}') = 'string' then
        v_text := p_document #>> '{addresses,0,date}';
        if test_mv.is_dd_mm_yyyy(v_text) then
            return to_date(v_text, 'DD-MM-YYYY');
        end if;
    end if;
    return null;
end
$$;

create or replace view public.stage_json_with_date as
select r.id,
       r.stage,
       test_mv.document_md5(r.stage)        as hash,
       test_mv.first_address_date(r.stage)  as date,
       r.landed_at,
       r.landed_xid,
       test_mv.document_md5(r.stage)        as json_data_hash,
       r.stage                              as json_data
  from public.fake_json_request r;

-- What users read in the database, correcting V001's comments, which the code has outgrown (a released versioned
-- migration is never edited).
comment on view public.stage_json_with_date is
    'Each landed document (json_data, also stage) with the md5 of its text (json_data_hash, also hash; null when that'
    ' text would exceed 1 GB) and the date of its first address (null when none is valid). Documents equal as jsonb'
    ' can have different hashes (1.0 and 1 are written differently): duplicates are decided by jsonb equality, not by'
    ' this hash.';
comment on column public.fake_json_request.landed_xid is
    'The landing transaction (a check refuses any other value). A batch takes a row only when every transaction older'
    ' than it that lands documents has ended (test_mv.load_horizon: the oldest running transaction holding the'
    ' landing marker, V013), so that no row can appear behind the position; a transaction passed before its first'
    ' landing is refused, to be retried.';
