package io.incrementalloader.citus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.testing.CitusCluster;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.ReferenceTables;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A lane's shard moves to the other worker (citus_move_shard_placement) while callers load and a producer lands:
 * nothing is lost, nothing is loaded twice. xids are a node's own, so the worker the lane moves to numbers its
 * transactions far below where the lane's position stood (made so here by spending xids on the first worker): the
 * rows landed after the move would sort behind the position, and, compared by xid alone, never load.
 */
@Tag("citus")
class CitusShardMoveTest {
    @RegisterExtension
    static final TestDatabase db = TestDatabase.onCitus();

    @Test
    void a_lane_whose_shard_moves_while_loading_loses_nothing_and_loads_nothing_twice() throws Exception {
        CitusCluster cluster = CitusCluster.get();
        String database = (String) db.queryOne("select current_database()");
        List<List<Object>> placements = db.query("select s.shardid, s.nodeport from citus_shards s"
                + " where s.table_name = 'test_mv.landed_documents'::regclass"
                + " and s.shardid = get_shard_id_for_distribution_column('test_mv.landed_documents', 0)");
        long shard = (Long) placements.get(0).get(0);
        int from = (Integer) placements.get(0).get(1);
        int to = cluster.workerPorts().stream().filter(p -> p != from).findFirst().orElseThrow();
        // The worker that holds lane 0 spends 20,000 xids: its positions stand far above the other worker's xids.
        try (Connection worker = cluster.node(from, database).open(); Statement spend = worker.createStatement()) {
            spend.execute("do $$ begin for i in 1..20000 loop perform pg_current_xact_id(); commit; end loop; end $$");
        }
        db.landGenerated(51, 4_000, 0.1, 0.05);
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());

        AtomicBoolean landing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<?> producer = pool.submit(() -> {
                for (int round = 0; round < 20; round++) {
                    db.landNumbered(10_000 + round * 100, 100);
                    Thread.sleep(100);
                }
                return null;
            });
            List<Future<Long>> callers = new ArrayList<>();
            // The service, its runs checked after each (a run may span the move).
            callers.add(pool.submit(() -> {
                long runs = 0;
                while (true) {
                    boolean producing = landing.get();
                    Cli.Result load = Cli.run("load", "--batch-size", "50", "--url", db.settings().url());
                    assertEquals(0, load.exitCode(), load.toString());
                    runs++;
                    if (!producing && load.out().startsWith("Loaded 0 documents") && nothingPending()) {
                        return runs;
                    }
                }
            }));
            for (int i = 0; i < 1; i++) {
                callers.add(pool.submit(() -> {
                    long taken = 0;
                    try (Connection connection = db.connect()) {
                        while (true) {
                            boolean producing = landing.get();
                            BatchFigures drained = new BatchLoader(50).drain(connection, () -> false, total -> { });
                            taken += drained.taken();
                            if (!producing && drained.taken() == 0 && nothingPending()) {
                                return taken;
                            }
                            Thread.sleep(20);
                        }
                    }
                }));
            }
            Thread.sleep(300);
            db.execute("select citus_move_shard_placement(" + shard + ", '127.0.0.1', " + from + ", '127.0.0.1', " + to
                    + ", shard_transfer_mode => 'block_writes')");
            producer.get(120, TimeUnit.SECONDS);
            landing.set(false);
            for (Future<Long> caller : callers) {
                caller.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(to, db.count("select nodeport from citus_shards where shardid = " + shard), "the shard moved");
        // Lane 0 holds rows of both workers, and those landed after the move have xids below those before it.
        assertEquals(List.of(List.of(2L, true)), db.query("select count(distinct r.landed_node),"
                + " min(r.landed_xid::text::bigint) filter (where n.nodeport = " + to + ")"
                + " < max(r.landed_xid::text::bigint) filter (where n.nodeport = " + from + ")"
                + " from fake_json_request r join pg_dist_node n on n.groupid = r.landed_node where r.lane = 0"));
        assertEquals(0, db.count("select documents from test_mv.pending()"));

        ReferenceTables reference = ReferenceTables.of(db);
        assertEquals(6_000, reference.documents());
        reference.assertLoaded(db);
        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertTrue(verify.out().contains("Sound"), verify.toString());
        assertEquals(0, db.count("select count(*) from test_mv.run_checks where verdict <> 'sound'"));
    }

    /**
     * Whether every landed document has its outcome: a caller that took nothing stops only then, since it takes
     * nothing too while the lanes left are held by the other callers.
     */
    private static boolean nothingPending() {
        return db.count("select documents from test_mv.pending()") == 0;
    }
}
