-- The landing table and its stage: where producers put raw documents, and how the loader sees them.
--
-- Producers insert only `stage`, with plain SQL or COPY; the database fills the rest. `landed_xid` is what makes
-- the load exact: a batch only takes rows whose landing transaction is older than every transaction still open
-- (the snapshot's xmin), so a row can never become visible behind the position the loader has already passed.
create table public.fake_json_request (
    stage      jsonb       not null,
    id         bigint      generated always as identity,
    landed_at  timestamptz not null default now(),
    landed_xid xid8        not null default pg_current_xact_id(),
    constraint pk_fake_json_request primary key (id)
);

-- The order in which the loader takes documents: by landing transaction, then by landing order within it.
create index ix_fake_json_request_position on public.fake_json_request (landed_xid, id);

comment on table public.fake_json_request is
    'Landed raw documents. Insert only stage; id, landed_at and landed_xid are filled by the database.';

-- The stage: each landed document with its md5 hash (equal jsonb values have equal hashes, whatever the key order
-- or spacing they were written with) and its date (the landing date).
create view public.stage_json_with_date as
select r.id,
       r.stage,
       md5(r.stage::text)  as hash,
       r.landed_at::date   as date,
       r.landed_at,
       r.landed_xid
  from public.fake_json_request r;
