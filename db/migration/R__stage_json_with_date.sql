-- The stage: each landed document with its md5 hash and its date (the landing date). The hash is null for the rare
-- document whose text form would exceed PostgreSQL's 1 GB limit (see document_md5), so that reading the stage never
-- raises, whatever was landed.
create or replace view public.stage_json_with_date as
select r.id,
       r.stage,
       test_mv.document_md5(r.stage) as hash,
       r.landed_at::date              as date,
       r.landed_at,
       r.landed_xid
  from public.fake_json_request r;
