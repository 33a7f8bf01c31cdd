-- A twin is decided by jsonb equality, always, also once the original's landing row is gone. Until now a loaded
-- document whose landing row was pruned had only its 64-bit key left (clients.document_key, jsonb_hash_extended),
-- and the key alone decided: jsonb_hash_extended is no cryptographic hash (its rotation repeats every 32 tokens, so
-- documents that differ only in elements 32 apart share a key, by design or by chance), so a different document
-- could be recorded as the duplicate of a pruned one and never loaded.
--
-- Now the removal of a loaded document's landing row keeps its digest here (the triggers of R__document_digest):
-- the SHA-256 of a canonical text in which equal jsonb values are equal (document_digest). A later document with
-- the same key is its duplicate only when its digest is the same.
--
-- Documents pruned before this migration left no digest and cannot get one: their content is gone. A document whose
-- key matches one of them is loaded, since nothing can prove it equal (README, Upgrading).
create table test_mv.pruned_documents (
    request_id  bigint      not null,
    digest      bytea       not null,
    pruned_at   timestamptz not null default now(),
    constraint pk_pruned_documents primary key (request_id)
);
comment on table test_mv.pruned_documents is
    'Loaded documents whose landing row was removed: the SHA-256 of each one''s canonical text (document_digest), '
    'which decides whether a later document with its key is its duplicate.';

-- The triggers and their functions live here, not in a repeatable: a repeatable also runs on a database migrated to
-- a version before this one, where the table does not exist.

-- keep_digests_of_removed(): after a DELETE on the landing table (prune_landing's, or anyone's by hand), the digest
-- of every loaded document among the rows removed. Security definer: whoever deletes need not be able to write here.
create or replace function test_mv.keep_digests_of_removed()
    returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    insert into test_mv.pruned_documents (request_id, digest)
    select r.id, test_mv.document_digest(r.stage)
      from removed r
     where exists (select 1 from test_mv.clients c where c.client_id = r.id)
        on conflict (request_id) do nothing;
    return null;
end
$$;

-- keep_digests_before_truncate(): TRUNCATE fires no DELETE trigger and leaves no rows to read after it, so before
-- it the digest of every loaded document still landed. A TRUNCATE of the landing table costs a pass over it.
create or replace function test_mv.keep_digests_before_truncate()
    returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    insert into test_mv.pruned_documents (request_id, digest)
    select s.id, test_mv.document_digest(s.stage)
      from public.fake_json_request s
      join test_mv.clients c on c.client_id = s.id
        on conflict (request_id) do nothing;
    return null;
end
$$;

create or replace trigger tr_fake_json_request_removed
    after delete on public.fake_json_request
    referencing old table as removed
    for each statement execute function test_mv.keep_digests_of_removed();
create or replace trigger tr_fake_json_request_truncated
    before truncate on public.fake_json_request
    for each statement execute function test_mv.keep_digests_before_truncate();

revoke all on function test_mv.keep_digests_of_removed() from public;
revoke all on function test_mv.keep_digests_before_truncate() from public;
