-- Duplicates by jsonb equality, as CONTRACT.md defines them, instead of by the md5 of the jsonb text: numbers keep
-- the scale they were written with in that text, so {"a": 1.0} and {"a": 1}, equal as jsonb, had two hashes and
-- both loaded. Now a document's key is jsonb_hash_extended(stage, 0), which equal jsonb values share, and a key
-- match is only a candidate: the loader compares the documents themselves (the original through its landing row).
-- The key is cheaper to compute than the md5 of the document's text, too.
-- A loaded document's md5 stays where the contract puts it: stage_json_with_date.hash, by request_id.
alter table test_mv.clients add column document_key bigint;

update test_mv.clients c
   set document_key = jsonb_hash_extended(r.stage, 0)
  from public.fake_json_request r
 where r.id = c.request_id;

-- Clients whose landing row was deleted keep a null key: their twins can no longer be recognised (nor could they be
-- compared). Everyone else gets the constraint.
do $$
begin
    if not exists (select 1 from test_mv.clients where document_key is null) then
        alter table test_mv.clients alter column document_key set not null;
    end if;
end
$$;

alter table test_mv.clients drop constraint uq_clients_document_hash;
alter table test_mv.clients drop column document_hash;

-- Not unique: two different documents may share a key (jsonb_hash_extended is no cryptographic hash).
create index ix_clients_document_key on test_mv.clients (document_key);
