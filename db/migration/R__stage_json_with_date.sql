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

-- What users read in the database, correcting V001's comments, which the code has outgrown (a released versioned
-- migration is never edited).
comment on view public.stage_json_with_date is
    'Each landed document with the md5 of its text (hash; null when that text would exceed 1 GB) and its landing date.'
    ' Documents equal as jsonb can have different hashes (1.0 and 1 are written differently): duplicates are decided'
    ' by jsonb equality, not by this hash.';
comment on column public.fake_json_request.landed_xid is
    'The landing transaction (a check refuses any other value). A batch takes a row only when every transaction older'
    ' than it that could write here has ended (test_mv.load_horizon: the oldest running transaction of this'
    ' database, not the snapshot''s xmin), so that no row can appear behind the position.';
