-- The loader's tables laid out on a Citus cluster: run by `migrate` on a coordinator with workers, after the
-- migrations of db/migration (which built the single server's layout here), once: it does nothing when the
-- tables are distributed already (CitusLayout.java).
--
-- A lane is the unit of distribution. Every table a batch touches carries the lane of its document in a column of
-- its own, `lane`, is distributed by it and co-located with the others, and has the lane in its primary and foreign
-- keys (Citus enforces a key only when it holds the distribution column). All of one lane's rows (its landed
-- documents, their clients and child rows, its rejections and duplicates, its position, its batches) are then in
-- one shard group on one worker, and a lane's batch is a single-shard transaction there. Equal documents share a key
-- (jsonb_hash_extended) and so a lane: duplicates are still decided in one lane's order.
--
-- The landing table becomes test_mv.landed_documents, and public.fake_json_request a view of it that producers
-- insert and COPY into as before: Citus routes a row by its distribution column, which must be known on the
-- coordinator before the row is sent, and a producer gives only the document. The view's trigger computes the lane
-- (Citus refuses a generated distribution column, and a default cannot read the document).
--
-- What the single server keeps and this layout gives up (statement triggers with transition tables, the landing
-- marker and fences, the id check with currval) is in docs/scale-out.md, with the Citus error behind each.

set local citus.multi_shard_modify_mode to 'sequential';

-- The landing table. Its triggers go: the marker (admit_landing) and the digests of removed rows read node-local
-- state or transition tables, which Citus refuses on shards. The two checks go too: landed_xid is stamped on the
-- worker instead (stamp_landed_xid, below), and currval is the coordinator's, not the worker's.
drop trigger tr_fake_json_request_admit on public.fake_json_request;
drop trigger if exists tr_fake_json_request_removed on public.fake_json_request;
drop trigger if exists tr_fake_json_request_truncated on public.fake_json_request;
alter table public.fake_json_request
    drop constraint ck_fake_json_request_landed_xid,
    drop constraint ck_fake_json_request_id,
    alter column landed_xid drop default,
    add column lane integer,
    -- The node whose transaction landed_xid is (its Citus group id, stamped by the worker: stamp_landed_xid). Rows
    -- landed before this layout carry the coordinator's xids: group 0. xids are a node's own, and a lane's shard
    -- may move to another worker, whose xids are not comparable with the first's: each node's rows of a lane are
    -- taken in that node's order, from a position of their own (lane_positions).
    add column landed_node integer not null default 0;
update public.fake_json_request set lane = test_mv.document_lane(document_key);
alter table public.fake_json_request
    alter column lane set not null,
    drop constraint pk_fake_json_request,
    add constraint pk_landed_documents primary key (lane, id);
drop index public.ix_fake_json_request_lane;
create index ix_landed_documents_lane on public.fake_json_request (lane, landed_node, landed_xid, id);
alter table public.fake_json_request set schema test_mv;
alter table test_mv.fake_json_request rename to landed_documents;
comment on table test_mv.landed_documents is
    'Landed raw documents, distributed by lane (Citus). Producers write through the view public.fake_json_request.';

-- The four tables: the statement triggers that note changes by hand use transition tables ("could not find named
-- tuplestore"), so they go; the foreign keys are made again with the lane.
do $$
declare
    v_table text;
begin
    foreach v_table in array array['clients', 'phones', 'addresses', 'products'] loop
        execute format('drop trigger if exists tr_%1$s_updated on test_mv.%1$I', v_table);
        execute format('drop trigger if exists tr_%1$s_deleted on test_mv.%1$I', v_table);
        execute format('drop trigger if exists tr_%1$s_truncated on test_mv.%1$I', v_table);
    end loop;
end
$$;
alter table test_mv.phones drop constraint fk_phones_client;
alter table test_mv.addresses drop constraint fk_addresses_client;
alter table test_mv.products drop constraint fk_products_client;

-- A loaded document's lane is its key's; one whose key was lost (before V004's key, its landing row gone) is put in
-- lane 0, where nothing can be its twin anyway.
alter table test_mv.clients add column lane integer;
update test_mv.clients set lane = coalesce(test_mv.document_lane(document_key), 0);
alter table test_mv.clients
    alter column lane set not null,
    drop constraint pk_clients,
    add constraint pk_clients primary key (lane, client_id);

alter table test_mv.phones add column lane integer;
update test_mv.phones p set lane = c.lane from test_mv.clients c where c.client_id = p.client_id;
alter table test_mv.phones alter column lane set not null, drop constraint pk_phones,
    add constraint pk_phones primary key (lane, phone_id);
alter table test_mv.addresses add column lane integer;
update test_mv.addresses a set lane = c.lane from test_mv.clients c where c.client_id = a.client_id;
alter table test_mv.addresses alter column lane set not null, drop constraint pk_addresses,
    add constraint pk_addresses primary key (lane, address_id);
alter table test_mv.products add column lane integer;
update test_mv.products p set lane = c.lane from test_mv.clients c where c.client_id = p.client_id;
alter table test_mv.products alter column lane set not null, drop constraint pk_products,
    add constraint pk_products primary key (lane, product_id);

-- A rejection keeps its document, so its lane is the document's; a duplicate is in its original's lane.
alter table test_mv.load_errors add column lane integer;
update test_mv.load_errors set lane = test_mv.document_lane(jsonb_hash_extended(json_data, 0));
alter table test_mv.load_errors alter column lane set not null, drop constraint pk_load_errors,
    add constraint pk_load_errors primary key (lane, request_id);
alter table test_mv.load_duplicates add column lane integer;
update test_mv.load_duplicates d set lane = coalesce(c.lane, 0)
  from test_mv.load_duplicates d2 left join test_mv.clients c on c.client_id = d2.duplicate_of
 where d2.request_id = d.request_id;
alter table test_mv.load_duplicates alter column lane set not null, drop constraint pk_load_duplicates,
    add constraint pk_load_duplicates primary key (lane, request_id);

-- One position a lane, keyed by the lane alone: the last document taken, of node last_node.
alter table test_mv.load_metadata drop constraint pk_load_metadata, drop constraint uq_load_metadata_lane,
    add constraint pk_load_metadata primary key (lane),
    add column last_node integer not null default 0,
    -- The safety net's circuit breaker (V014) counts a lane's rejections in a row here, beside the lane's position:
    -- load_control is a reference table, which a batch on a worker should not write.
    add column safety_net_streak integer not null default 0,
    add column safety_net_error text,
    add column safety_net_batch_id bigint;

-- A lane's position among the rows each node landed: (last_xid, last_request_id) in that node's order. A lane whose
-- shard moved has rows of more than one node; each node's are taken from its own position (write_lane).
create table test_mv.lane_positions (
    lane            integer not null,
    node            integer not null,
    last_xid        xid8    not null,
    last_request_id bigint  not null,
    constraint pk_lane_positions primary key (lane, node)
);
insert into test_mv.lane_positions (lane, node, last_xid, last_request_id)
select m.lane, 0, m.last_xid, m.last_request_id from test_mv.load_metadata m;
comment on table test_mv.lane_positions is
    'Citus: each lane''s position among the documents each node (Citus group id) landed; load_metadata holds the last one.';

-- The run history, by lane: a batch is a lane's. Batches of other kinds than 'load' (which take documents across
-- lanes) are recorded under lane -1.
update test_mv.load_batches set lane = -1 where lane is null;
alter table test_mv.load_batches alter column lane set not null, drop constraint pk_load_batches,
    add constraint pk_load_batches primary key (lane, batch_id),
    -- The node whose documents a load batch took (from_xid and to_xid are in its order).
    add column node integer;
update test_mv.load_batches set node = 0 where kind = 'load';

select create_distributed_table('test_mv.landed_documents', 'lane', shard_count => 16);
select create_distributed_table('test_mv.clients', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.phones', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.addresses', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.products', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.load_errors', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.load_duplicates', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.load_metadata', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.load_batches', 'lane', colocate_with => 'test_mv.landed_documents');
select create_distributed_table('test_mv.lane_positions', 'lane', colocate_with => 'test_mv.landed_documents');
-- Read by every batch (the pause, the safety net's limit) wherever it runs: a copy on every node. And what the
-- checks read beside a lane's rows (the digests of pruned documents, the pruned ranges, the changes by hand): a
-- query on a lane may join a reference table, never a table of the coordinator's alone ("direct joins between
-- distributed and local tables are not supported").
select create_reference_table('test_mv.load_control');
select create_reference_table('test_mv.pruned_documents');
select create_reference_table('test_mv.pruned_ranges');
select create_reference_table('test_mv.changed_documents');

alter table test_mv.phones add constraint fk_phones_client
    foreign key (lane, client_id) references test_mv.clients (lane, client_id);
alter table test_mv.addresses add constraint fk_addresses_client
    foreign key (lane, client_id) references test_mv.clients (lane, client_id);
alter table test_mv.products add constraint fk_products_client
    foreign key (lane, client_id) references test_mv.clients (lane, client_id);

-- Citus copied the rows into the shards and left the coordinator's copies, unseen, on disk.
select truncate_local_data_after_distributing_table(t)
  from unnest(array['test_mv.landed_documents', 'test_mv.clients', 'test_mv.phones', 'test_mv.addresses',
                    'test_mv.products', 'test_mv.load_errors', 'test_mv.load_duplicates', 'test_mv.load_metadata',
                    'test_mv.load_batches', 'test_mv.lane_positions', 'test_mv.load_control', 'test_mv.pruned_documents',
                    'test_mv.pruned_ranges', 'test_mv.changed_documents']::regclass[]) t;

-- The producers' view (landing.sql makes it again with every change), with the grants the landing table had: a role
-- that could insert, COPY or read the documents still can.
create view public.fake_json_request as
select d.stage, d.id, d.landed_at, d.landed_xid, d.document_key, d.lane, d.landed_node
  from test_mv.landed_documents d;
do $$
declare
    v_grant record;
begin
    for v_grant in
        select a.privilege_type, r.rolname
          from pg_class c
         cross join lateral aclexplode(c.relacl) a
          join pg_roles r on r.oid = a.grantee
         where c.oid = 'test_mv.landed_documents'::regclass and a.grantee <> c.relowner
           and a.privilege_type in ('INSERT', 'SELECT')
    loop
        execute format('grant %s on public.fake_json_request to %I', v_grant.privilege_type, v_grant.rolname);
    end loop;
    for v_grant in
        select distinct a.privilege_type, r.rolname, t.attname
          from pg_attribute t
         cross join lateral aclexplode(t.attacl) a
          join pg_roles r on r.oid = a.grantee
         where t.attrelid = 'test_mv.landed_documents'::regclass and t.attacl is not null
           and a.privilege_type in ('INSERT', 'SELECT')
    loop
        execute format('grant %s (%I) on public.fake_json_request to %I', v_grant.privilege_type, v_grant.attname,
                       v_grant.rolname);
    end loop;
end
$$;

-- Which version of the routines (db/citus/*.sql but this one) is in place, their md5: migrate makes them again
-- when it changed.
create table test_mv.citus_layout (
    laid_out_at       timestamptz not null default now(),
    routines_checksum text
);
insert into test_mv.citus_layout default values;
