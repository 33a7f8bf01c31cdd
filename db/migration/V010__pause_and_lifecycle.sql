-- The data's lifecycle (pause, reprocessing, rejection by hand, retention, reloading): what the database keeps for it.

-- One row: whether loading is paused, since when, by whom and why (null columns: it is not). Apart from
-- load_metadata, whose row a running batch holds locked: pausing must not wait for a batch, and a batch that runs
-- finishes; every batch after it reads this row and takes nothing while loading is paused.
create table test_mv.load_control (
    id        integer     not null default 1,
    paused_at timestamptz,
    paused_by text,
    reason    text,
    constraint pk_load_control primary key (id),
    constraint ck_load_control_one_row check (id = 1),
    constraint ck_load_control_paused check ((paused_at is null) = (paused_by is null) and (paused_at is null) = (reason is null))
);
insert into test_mv.load_control default values;

-- What a batch of the run history did: took the next documents past the position ('load'), put rejected documents
-- through today's rules ('reprocess'), re-derived the rows of loaded ones ('reload'), or rejected a loaded one by
-- hand ('reject'). Only 'load' moves the
-- position; the others record the position they found, before and after.
alter table test_mv.load_batches
    add column kind text not null default 'load',
    add constraint ck_load_batches_kind check (kind in ('load', 'reprocess', 'reload', 'reject'));

-- Retention: landing rows removed by prune_landing, counted beside the outcomes (landed = loaded + rejected +
-- duplicates + pending + pruned).
alter table test_mv.load_metadata
    add column pruned_documents bigint not null default 0;
comment on column test_mv.load_metadata.pruned_documents is
    'Landing rows of documents with an outcome removed by prune_landing so far.';
