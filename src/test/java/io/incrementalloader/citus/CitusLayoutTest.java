package io.incrementalloader.citus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.db.Migrations;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.io.StringReader;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;

/**
 * `migrate` on a Citus coordinator with workers lays the loader out distributed, with no extra step; producers land
 * as on one server; and a lane's batch runs on the worker that holds the lane.
 */
@Tag("citus")
class CitusLayoutTest {
    @RegisterExtension
    static final TestDatabase db = TestDatabase.onCitus();

    @Test
    void migrate_distributes_the_tables_by_lane_co_located_and_what_every_lane_reads_as_reference_tables() {
        assertEquals(List.of(List.of("test_mv.addresses", "h", "lane"), List.of("test_mv.changed_documents", "n", "<none>"),
                        List.of("test_mv.clients", "h", "lane"), List.of("test_mv.landed_documents", "h", "lane"),
                        List.of("test_mv.lane_positions", "h", "lane"), List.of("test_mv.load_batches", "h", "lane"),
                        List.of("test_mv.load_control", "n", "<none>"), List.of("test_mv.load_duplicates", "h", "lane"),
                        List.of("test_mv.load_errors", "h", "lane"), List.of("test_mv.load_metadata", "h", "lane"),
                        List.of("test_mv.phones", "h", "lane"), List.of("test_mv.products", "h", "lane"),
                        List.of("test_mv.pruned_documents", "n", "<none>"), List.of("test_mv.pruned_ranges", "n", "<none>")),
                db.query("select logicalrelid::regclass::text, partmethod::text,"
                        + " coalesce(column_to_column_name(logicalrelid, partkey), '<none>')"
                        + " from pg_dist_partition where logicalrelid::regclass::text like 'test_mv.%' order by 1"));
        assertEquals(1, db.count("select count(distinct colocationid) from pg_dist_partition where partmethod = 'h'"
                + " and logicalrelid::regclass::text like 'test_mv.%'"), "one co-location group");
        assertEquals(2, db.count("select count(distinct nodeport) from citus_shards"
                + " where table_name = 'test_mv.landed_documents'::regclass"), "the lanes are spread over both workers");
        // migrate again: nothing to do, and nothing done.
        assertEquals(0, Migrations.apply(db.settings()));
    }

    @Test
    void producers_insert_and_copy_only_the_document_and_it_lands_in_its_lanes_shard() throws Exception {
        db.land("{\"application_id\": 1}", "{\"application_id\": 2}");
        try (Connection connection = db.connect()) {
            long copied = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(
                    "copy fake_json_request (stage) from stdin", new StringReader("{\"application_id\": 3}\n{\"application_id\": 4}\n"));
            assertEquals(2, copied);
        }
        assertEquals(4, db.count("select count(*) from fake_json_request"));
        assertEquals(0, db.count("select count(*) from fake_json_request where lane <> test_mv.document_lane(document_key)"));
        assertEquals(4, db.count("select count(*) from stage_json_with_date where hash is not null"), "the seed's stage reads it");
        // The landing transaction is the worker's: a row's landed_xid is a transaction of the node that holds it.
        assertEquals(0, db.count("select count(*) from fake_json_request where landed_xid is null"));
        IllegalStateException forged = assertThrows(IllegalStateException.class,
                () -> db.execute("insert into fake_json_request (stage, id) values ('{}', 1)"));
        assertTrue(forged.getMessage().contains("only stage and landed_at may be given"), forged.getMessage());
        assertThrows(IllegalStateException.class, () -> db.execute("update test_mv.landed_documents set stage = '{}'"),
                "a landed document is never changed");
    }

    @Test
    void a_lanes_batch_called_by_its_lane_runs_on_a_worker_and_call_load_batch_on_the_coordinator_works() {
        db.landNumbered(400);
        for (int lane = 0; lane < 16; lane++) {
            long id = db.count("select nextval('test_mv.load_batch_id_seq')");
            List<List<Object>> batch = db.query("select caller, taken from test_mv.load_lane(" + lane + ", 1000, null, "
                    + id + ")");
            if (batch.get(0).get(0) != null) {
                // Named by the session that ran it: on the worker, Citus's own.
                assertTrue(((String) batch.get(0).get(0)).startsWith("citus_internal"), "lane " + lane + ": " + batch);
            }
        }
        assertEquals(400, db.count("select count(*) from test_mv.clients"));
        assertEquals(List.of(List.of(400L, 0L, 0L)), db.query(TestDatabase.TOTALS));
        db.landNumbered(400, 50);
        db.execute("call load_batch(100)");
        assertEquals(450, db.count("select count(*) from test_mv.clients"), "CALL load_batch on the coordinator");
    }

    @Test
    void a_producer_and_a_loader_of_least_privilege_land_and_load_on_the_cluster() {
        String suffix = String.valueOf(System.nanoTime() % 1_000_000);
        String producer = "citus_producer_" + suffix;
        String loader = "citus_loader_" + suffix;
        db.execute("create role " + producer + " login; grant insert (stage) on public.fake_json_request to " + producer);
        db.execute("create role " + loader + " login; grant usage on schema test_mv to " + loader
                + "; grant select on all tables in schema test_mv to " + loader
                + "; grant select on public.fake_json_request, public.stage_json_with_date to " + loader
                + "; grant execute on routine public.load_batch(integer), public.load_pending(integer),"
                + " test_mv.load_next_batch(integer), test_mv.record_run_check(bigint, bigint, bigint, integer, numeric,"
                + " text, text), test_mv.record_run_failure(text, text), test_mv.record_run_success(),"
                + " test_mv.load_lane(integer, integer, text, bigint), test_mv.draw_batch_id() to " + loader);
        try {
            try (Connection connection = new io.incrementalloader.db.ConnectionSettings(db.settings().url(), producer, null, true).open();
                 java.sql.Statement statement = connection.createStatement()) {
                statement.execute("insert into fake_json_request (stage) select jsonb_build_object('application_id', i)"
                        + " from generate_series(1, 200) i");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            Cli.Result load = Cli.run("load", "--url", db.settings().url(), "--user", loader);
            assertEquals(0, load.exitCode(), load.toString());
            assertEquals(200, db.count("select count(*) from test_mv.clients"));
        } finally {
            db.execute("drop owned by " + producer + ", " + loader + "; drop role " + producer + "; drop role " + loader);
        }
    }
}
