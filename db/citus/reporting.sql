-- What status and a scrape read, on Citus.

-- lanes() on Citus: the single server's figures (R__load_status), a lane at a time, each query routed to the
-- worker that holds the lane (one query over all lanes would join the positions and the landed rows across shards,
-- which Citus refuses). A lane's backlog is counted node by node (the rows each node landed past the lane's
-- position among them, lane_positions), up to 1,000 documents; past that it is estimated from the ids the landing
-- sequence handed out on the coordinator since the lane's first pending one. waiting compares with the horizon of
-- the worker that holds the lane.
create or replace function test_mv.lanes()
    returns table (lane integer, documents bigint, exact boolean, waiting bigint, oldest_landed_at timestamptz,
                   last_request_id bigint, updated_at timestamptz)
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_lane    integer;
    v_node    integer;
    v_counted bigint;
    v_waiting bigint;
    v_oldest  timestamptz;
    v_first   bigint;
    v_part    record;
    v_from    record;
    v_last_id bigint := coalesce(pg_sequence_last_value(pg_get_serial_sequence('test_mv.landed_documents', 'id')::regclass), 0);
begin
    for v_lane in 0..15 loop
        v_counted := 0;
        v_waiting := 0;
        v_oldest := null;
        v_first := null;
        v_node := -1;
        loop
            select min(s.landed_node) into v_node
              from test_mv.landed_documents s where s.lane = v_lane and s.landed_node > v_node;
            exit when v_node is null or v_counted > 1000;
            -- The node's position first, so that it bounds the index scan.
            select coalesce(max(p.last_xid::text)::xid8, '0'::xid8) as last_xid, coalesce(max(p.last_request_id), 0) as last_request_id
              into v_from
              from test_mv.lane_positions p where p.lane = v_lane and p.node = v_node;
            select count(*) as counted,
                   count(*) filter (where n.landed_node = n.here and n.landed_xid >= n.horizon) as waiting,
                   min(n.landed_at) as oldest, min(n.id) as first_id
              into v_part
              from (select r.id, r.landed_xid, r.landed_at, r.landed_node, test_mv.worker_node(r.lane) as here,
                           test_mv.worker_horizon(r.lane) as horizon
                      from test_mv.landed_documents r
                     where r.lane = v_lane and r.landed_node = v_node
                       and (r.landed_xid, r.id) > (v_from.last_xid, v_from.last_request_id)
                     order by r.landed_xid, r.id
                     limit 1001) n;
            v_counted := v_counted + v_part.counted;
            v_waiting := v_waiting + v_part.waiting;
            v_oldest := least(v_oldest, v_part.oldest);
            v_first := least(v_first, v_part.first_id);
        end loop;
        return query
        select m.lane,
               case when v_counted <= 1000 then v_counted else greatest(v_counted, (v_last_id - v_first + 1) / 16) end,
               v_counted <= 1000, v_waiting, v_oldest, m.last_request_id, m.updated_at
          from test_mv.load_metadata m
         where m.lane = v_lane;
    end loop;
end
$$;

-- holding_back() on Citus: the transaction pending documents wait for is a worker's (each worker's horizon is its
-- own oldest running transaction), which the coordinator's pg_stat_activity does not show: status says how many
-- documents wait (lanes().waiting), not for whom. No row.
create or replace function test_mv.holding_back()
    returns table (description text, since timestamptz)
    language sql stable
    set search_path = pg_catalog, pg_temp
as $$
    select null::text, null::timestamptz where false
$$;
