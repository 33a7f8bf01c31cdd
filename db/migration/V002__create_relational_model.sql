-- The relational model the documents are decomposed into (see CONTRACT.md, section 2).
-- Each loaded document is one client row, keyed by the landing row it came from (its lineage).
create schema if not exists test_mv;

create table test_mv.clients (
    request_id     bigint  not null,
    application_id integer not null,
    document_hash  uuid    not null,
    -- No foreign key to load_batches: the run history may be pruned without touching loaded data.
    batch_id       bigint  not null,
    constraint pk_clients primary key (request_id),
    -- A document equal as jsonb to a loaded one is a duplicate: this key makes a second load impossible.
    constraint uq_clients_document_hash unique (document_hash)
);

create table test_mv.phones (
    request_id bigint  not null,
    position   integer not null,
    type       text    not null,
    number     text,
    constraint pk_phones primary key (request_id, position),
    constraint fk_phones_client foreign key (request_id) references test_mv.clients (request_id)
);

create table test_mv.addresses (
    request_id bigint  not null,
    position   integer not null,
    type       text,
    date       date,
    city       text,
    street     text,
    house      text,
    flat       integer,
    constraint pk_addresses primary key (request_id, position),
    constraint fk_addresses_client foreign key (request_id) references test_mv.clients (request_id)
);

create table test_mv.products (
    request_id   bigint  not null,
    product_name text    not null,
    count        integer not null,
    cost         bigint,
    total_sum    bigint,
    constraint pk_products primary key (request_id, product_name),
    constraint fk_products_client foreign key (request_id) references test_mv.clients (request_id)
);
