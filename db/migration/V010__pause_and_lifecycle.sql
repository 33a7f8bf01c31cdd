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

-- Retention (prune_landing): how many landing rows of documents with an outcome were removed, kept on load_control
-- (whose row no batch locks, so that pruning never waits for the loader nor makes it wait); and the ranges of ids
-- each pruning batch removed, so that verify can tell a pruned landing row (its document is no longer checkable)
-- from one deleted by hand (a difference).
alter table test_mv.load_control
    add column pruned_documents bigint not null default 0;
comment on column test_mv.load_control.pruned_documents is
    'Landing rows of documents with an outcome removed by prune_landing so far (landed = loaded + rejected + '
    'duplicates + pending, whose landing rows number landed - pruned).';

create table test_mv.pruned_ranges (
    prune_id  bigint      generated always as identity,
    from_id   bigint      not null,
    to_id     bigint      not null,
    documents integer     not null,
    pruned_at timestamptz not null default now(),
    constraint pk_pruned_ranges primary key (prune_id)
);
comment on table test_mv.pruned_ranges is
    'One row a pruning batch: the lowest and highest request id whose landing row it removed, and how many.';
