-- What the loader remembers: its position, the history of its batches, and the fate of every document that was
-- not loaded (rejected, or a duplicate of a loaded one).

-- One row: the last position taken. (last_xid, last_request_id) is the real watermark; last_date and last_hash
-- describe the document at that position for people.
create table test_mv.load_metadata (
    singleton       boolean     not null default true,
    last_xid        xid8        not null default '0',
    last_request_id bigint      not null default 0,
    last_date       date,
    last_hash       text,
    last_batch_id   bigint,
    updated_at      timestamptz not null default now(),
    constraint pk_load_metadata primary key (singleton),
    constraint ck_load_metadata_singleton check (singleton)
);
insert into test_mv.load_metadata default values;

create sequence test_mv.load_batch_id_seq as bigint;

-- One row per batch that took documents.
create table test_mv.load_batches (
    batch_id         bigint      not null default nextval('test_mv.load_batch_id_seq'),
    started_at       timestamptz not null,
    finished_at      timestamptz not null,
    batch_size       integer     not null,
    taken            integer     not null,
    loaded           integer     not null,
    rejected         integer     not null,
    duplicates       integer     not null,
    phones           integer     not null,
    addresses        integer     not null,
    products         integer     not null,
    first_request_id bigint      not null,
    last_request_id  bigint      not null,
    caller           text        not null,
    constraint pk_load_batches primary key (batch_id)
);
alter sequence test_mv.load_batch_id_seq owned by test_mv.load_batches.batch_id;
create index ix_load_batches_started_at on test_mv.load_batches (started_at);

create table test_mv.load_errors (
    request_id  bigint      not null,
    batch_id    bigint      not null,
    reason      text        not null,
    json_data   jsonb       not null,
    rejected_at timestamptz not null default now(),
    constraint pk_load_errors primary key (request_id)
);

create table test_mv.load_duplicates (
    request_id   bigint not null,
    duplicate_of bigint not null,
    batch_id     bigint not null,
    constraint pk_load_duplicates primary key (request_id)
);
