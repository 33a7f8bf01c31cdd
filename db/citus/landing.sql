-- Landing on Citus (the routines of the layout, db/citus/layout.sql, are made again by every `migrate` on a
-- coordinator after the repeatable migrations, which make the single server's: where the two differ, these replace
-- them): producers write through a view, each row lands in its lane's shard, stamped with its worker's transaction.

-- The landing view: what producers insert and COPY into, with the columns the landing table had.
create or replace view public.fake_json_request as
select d.stage, d.id, d.landed_at, d.landed_xid, d.document_key, d.lane, d.landed_node
  from test_mv.landed_documents d;
comment on view public.fake_json_request is
    'Landed raw documents (Citus: a view of test_mv.landed_documents). Insert or COPY only stage (and landed_at, '
    'if you keep an original landing time); the rest is filled by the database.';

-- land_on_citus(): each row inserted into the view lands in its lane's shard. Security definer, so that a producer
-- needs INSERT on the view only. What only the database may set is refused, as the single server's checks refuse
-- it (V005): an id or a landing transaction of the producer's would stand in another's place in a lane's order.
create or replace function test_mv.land_on_citus()
    returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    if new.id is not null or new.landed_xid is not null or new.document_key is not null or new.lane is not null
       or new.landed_node is not null then
        raise exception 'fake_json_request: only stage and landed_at may be given; id, landed_xid, document_key, lane and landed_node are the database''s'
            using errcode = 'check_violation',
                  hint = 'Insert only the document: insert into fake_json_request (stage) values (...).';
    end if;
    insert into test_mv.landed_documents (lane, stage, landed_at)
    values (test_mv.document_lane(jsonb_hash_extended(new.stage, 0)), new.stage, coalesce(new.landed_at, now()))
    returning id, landed_at, landed_xid, document_key, lane
         into new.id, new.landed_at, new.landed_xid, new.document_key, new.lane;
    return new;
end
$$;
revoke all on function test_mv.land_on_citus() from public;
create or replace trigger tr_fake_json_request_land
    instead of insert on public.fake_json_request
    for each row execute function test_mv.land_on_citus();

-- stamp_landed_xid(): a landed row's landed_xid is the transaction that wrote it on its worker, and landed_node
-- that worker's Citus group: a lane's batches compare landed_xid with the horizon of that node. A default would be
-- evaluated on the coordinator, whose xids are not the worker's (Citus evaluates the functions of an INSERT before it
-- routes the row). A landed row is never changed.
create or replace function test_mv.stamp_landed_xid()
    returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'UPDATE' then
        raise exception 'test_mv.landed_documents: a landed document is never changed'
            using errcode = 'check_violation', hint = 'Land a corrected document as a new one.';
    end if;
    new.landed_xid := pg_current_xact_id();
    new.landed_node := (select g.groupid from pg_dist_local_group g);
    return new;
end
$$;

-- horizon_of(snapshot) on a worker: the snapshot's oldest running transaction. Every transaction that writes on the
-- worker is waited for, landing or not: the single server's marker and fences (V013) read the node's lock table,
-- and a transaction of a coordinator has a worker transaction of its own on each worker it writes to.
create or replace function test_mv.horizon_of(p_snapshot pg_snapshot)
    returns xid8
    language sql
    stable
    set search_path = pg_catalog, pg_temp
as $$
    select pg_snapshot_xmin(p_snapshot)
$$;

-- worker_horizon(lane) and worker_node(lane): the horizon, and the node's Citus group, where they are called. They
-- take the lane only so that a query naming them with a lane's column (lane_start) cannot be evaluated by Citus on
-- the coordinator, which it does with functions that reference no column.
create or replace function test_mv.worker_horizon(p_lane integer)
    returns xid8
    language sql
    volatile
    set search_path = pg_catalog, pg_temp
as $$
    select pg_snapshot_xmin(pg_current_snapshot())
$$;

create or replace function test_mv.worker_node(p_lane integer)
    returns integer
    language sql
    volatile
    set search_path = pg_catalog, pg_temp
as $$
    select g.groupid from pg_dist_local_group g
$$;

drop function if exists test_mv.next_batch_id(integer);
drop function if exists test_mv.lane_start(integer);

-- lane_start(lane): the horizon of the worker that holds the lane, and that worker's group, read there (a query
-- routed by the lane, run there also when the batch is planned on the coordinator): the lane's newest landed_xid
-- are that worker's transactions.
create or replace function test_mv.lane_start(p_lane integer, out horizon xid8, out node integer)
    language plpgsql
    set search_path = pg_catalog, pg_temp
as $$
begin
    select test_mv.worker_horizon(m.lane), test_mv.worker_node(m.lane) into strict horizon, node
      from test_mv.load_metadata m
     where m.lane = p_lane;
end
$$;

-- The trigger runs on the shards, on the workers (Citus makes it on each): citus.enable_unsafe_triggers lets a
-- trigger on a distributed table be made, since Citus cannot tell what it does; this one reads and writes only its
-- own row.
set local citus.enable_unsafe_triggers = on;
create or replace trigger tr_landed_documents_stamp
    before insert or update on test_mv.landed_documents
    for each row execute function test_mv.stamp_landed_xid();


-- The routines of the single server's migrations that a batch calls on a worker are there already (Citus makes a
-- function on every node when nothing it depends on is the coordinator's alone), but for one made while the run
-- history was a table of the coordinator's alone: made on every node now, and kept in step from now on.
select create_distributed_function('test_mv.one_rejection(bigint, xid8, bigint)');
