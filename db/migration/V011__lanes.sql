-- Lanes: loading on more than one core. Every landed document belongs to one of 16 lanes, and each lane has its own
-- position, so that concurrent callers of load_batch load different lanes at once instead of queueing on one
-- position (docs/performance.md, Concurrent callers).
--
-- A document's lane is a function of its duplicate key (jsonb_hash_extended, V004): documents equal as jsonb share
-- a key, so they share a lane, and which of them is loaded and which is a duplicate is still decided in one order,
-- the lane's, by one caller at a time. It is decided when the document lands, and every batch of a lane reads the
-- lane's documents in its order through the index below.

-- The duplicate key, computed once, as the document lands: a stored generated column, which the landing computes
-- and nobody can write. The loader reads it instead of hashing each document again, so the key costs what it cost
-- before lanes, only earlier. Adding it rewrites the landing table once, holding producers off meanwhile (minutes at
-- tens of millions of rows: README, Upgrading).
alter table public.fake_json_request
    add column document_key bigint generated always as (jsonb_hash_extended(stage, 0)) stored;
comment on column public.fake_json_request.document_key is
    'The document''s duplicate key, jsonb_hash_extended(stage, 0), computed as it lands; its lane is document_lane(document_key).';

-- document_lane(key): the lane of a document, 0 to 15, from its key. Immutable, as an index expression must be; SQL
-- without a SET clause, so that the planner inlines it and a query written with it matches the index. Its names are
-- qualified instead of a pinned search_path. Never to be changed in place: the index holds its values (a different
-- number of lanes is a new migration that rebuilds the index and splits the positions again).
create function test_mv.document_lane(p_document_key bigint)
    returns integer
    language sql
    immutable
    parallel safe
as $$
    select (p_document_key operator(pg_catalog.&) 15::bigint)::integer
$$;

-- A lane's documents in its order: what a batch takes, what tells a caller whether a lane has any pending, what
-- retention walks. It takes the place of the index on the position (landed_xid, id), which nothing reads any more:
-- the landing pays for one index, as before.
create index ix_fake_json_request_lane on public.fake_json_request (test_mv.document_lane(document_key), landed_xid, id);
drop index public.ix_fake_json_request_position;

-- One position a lane: the row of the single position (id 1) becomes lane 0's, and lanes 1 to 15 start where it
-- stood: every document at or before it has its outcome, whatever its lane. Locked first, so that no batch commits
-- between the copy and the split. The running totals stay on lane 0's row: they are kept per lane from now on, and
-- only their sum, across the lanes, counts the tables.
lock table test_mv.load_metadata in exclusive mode;

alter table test_mv.load_metadata
    drop constraint ck_load_metadata_one_position,
    add column lane integer;
update test_mv.load_metadata set lane = id - 1;
alter table test_mv.load_metadata
    alter column lane set not null,
    add constraint uq_load_metadata_lane unique (lane),
    add constraint ck_load_metadata_lane check (lane between 0 and 15 and id = lane + 1);

insert into test_mv.load_metadata (id, lane, last_xid, last_request_id, last_date, last_hash, last_batch_id, updated_at)
select l + 1, l, m.last_xid, m.last_request_id, m.last_date, m.last_hash, m.last_batch_id, m.updated_at
  from test_mv.load_metadata m, generate_series(1, 15) l
 where m.id = 1;

comment on table test_mv.load_metadata is
    'One row a lane: the last position its batches took. The latest row by updated_at is the latest position; the '
    'running totals count the tables summed over the lanes.';

-- The lane a batch of kind 'load' took its documents from (null for other kinds, and for batches before lanes).
alter table test_mv.load_batches add column lane integer;
comment on column test_mv.load_batches.lane is
    'The lane a load batch took its documents from (from_xid and to_xid are that lane''s positions); null for '
    'other kinds and for batches loaded before lanes, which took every lane''s documents.';
