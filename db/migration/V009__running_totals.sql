-- Status at any size: what status and a scrape read must not grow with the tables. Counting clients, load_errors
-- and load_duplicates grows with them; so the loader keeps running totals on the position's row, added to by the
-- very statement that writes a batch's rows and advances the position (load_next_batch): the totals change in the
-- transaction that changes what they count, and a batch that rolls back adds nothing.
-- They count outcomes the loader decided, not rows: a row deleted by hand leaves them as they were (the check after
-- the next run reports such a row, and verify does).
alter table test_mv.load_metadata
    add column loaded_documents    bigint not null default 0,
    add column rejected_documents  bigint not null default 0,
    add column duplicate_documents bigint not null default 0;

comment on column test_mv.load_metadata.loaded_documents is
    'Documents loaded so far (one row each in clients), kept by load_next_batch; status reads it instead of counting.';
comment on column test_mv.load_metadata.rejected_documents is
    'Documents rejected so far (one row each in load_errors), kept by load_next_batch.';
comment on column test_mv.load_metadata.duplicate_documents is
    'Documents found to duplicate a loaded one so far (one row each in load_duplicates), kept by load_next_batch.';

-- A batch committing between the counts and the update would be missed: the position's row is locked first, as a
-- batch locks it, and the counts (statements of their own, so snapshots taken after the lock) see every batch that
-- committed before.
lock table test_mv.load_metadata in exclusive mode;
update test_mv.load_metadata
   set loaded_documents    = (select count(*) from test_mv.clients),
       rejected_documents  = (select count(*) from test_mv.load_errors),
       duplicate_documents = (select count(*) from test_mv.load_duplicates);

-- status shows the last rejections: by their time, through an index, not by sorting every rejection ever made.
-- Rejections are rare, so the index costs the loader little.
create index ix_load_errors_rejected_at on test_mv.load_errors (rejected_at, request_id);
