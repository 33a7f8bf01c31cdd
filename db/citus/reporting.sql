-- lanes() on Citus: the single server's figures (R__load_status), a lane at a time, each a query routed to the
-- worker that holds the lane (one query over all lanes would join the positions and the landed rows across
-- shards, which Citus refuses). The estimate past 1,000 documents takes the ids handed out so far from the
-- landing sequence on the coordinator, where the view's trigger draws them; waiting compares with the worker's
-- horizon.
create or replace function test_mv.lanes()
    returns table (lane integer, documents bigint, exact boolean, waiting bigint, oldest_landed_at timestamptz,
                   last_request_id bigint, updated_at timestamptz)
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_lane    integer;
    v_last_id bigint := coalesce(pg_sequence_last_value(pg_get_serial_sequence('test_mv.landed_documents', 'id')::regclass), 0);
begin
    for v_lane in 0..15 loop
        return query
        select m.lane,
               case when c.counted <= 1000 then c.counted
                    else greatest(c.counted, (v_last_id - c.first_id + 1) / 16) end,
               c.counted <= 1000, c.waiting, c.oldest_landed_at, m.last_request_id, m.updated_at
          from test_mv.load_metadata m,
               lateral (select count(*) as counted,
                               count(*) filter (where n.landed_xid >= test_mv.worker_horizon(m.lane)) as waiting,
                               min(n.landed_at) as oldest_landed_at, min(n.id) as first_id
                          from (select r.id, r.landed_xid, r.landed_at
                                  from test_mv.landed_documents r
                                 where r.lane = v_lane
                                   and (r.landed_xid, r.id) > (m.last_xid, m.last_request_id)
                                 order by r.landed_xid, r.id
                                 limit 1001) n) c
         where m.lane = v_lane;
    end loop;
end
$$;
