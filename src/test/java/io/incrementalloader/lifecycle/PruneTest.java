package io.incrementalloader.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.Main;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.testing.Waiting;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * prune_landing: the landing rows of old documents with an outcome go, never a pending one, while producers land
 * and serve loads; nothing is lost from the accounting, twins of pruned documents are still duplicates, and verify
 * says which documents it can no longer check.
 */
class PruneTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    /** Landing rows + pruned = loaded + rejected + duplicates + pending, in one snapshot. */
    private static void assertAccountingWhole(String when) {
        List<List<Object>> row = db.query("select (select count(*) from fake_json_request)"
                + " + (select pruned_documents from test_mv.load_control),"
                + " (select sum(loaded_documents + rejected_documents + duplicate_documents)::bigint from test_mv.load_metadata)"
                + " + (select documents from test_mv.pending())");
        assertEquals(row.get(0).get(0), row.get(0).get(1), when + ": " + row);
    }

    private static void landOld(int from, int count) {
        db.execute("insert into fake_json_request (stage, landed_at) select jsonb_build_object('application_id', g,"
                + " 'phones', jsonb_build_array(jsonb_build_object('mobile', g::text))), now() - interval '40 days'"
                + " from generate_series(" + from + ", " + (from + count - 1) + ") g");
    }

    @Test
    void pruning_while_producers_land_and_serve_loads_loses_nothing_and_keeps_pending_documents() throws Exception {
        landOld(0, 3000);
        db.land("{\"application_id\": \"old and rejected\"}");
        landOld(0, 100); // old twins: duplicates
        db.execute("call load_pending(1000)");
        landOld(5000, 200); // old, but pending: never pruned
        assertAccountingWhole("before");

        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--url",
                db.settings().url(), "--interval", "1s", "--batch-size", "50")
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread producer = new Thread(() -> {
            for (int i = 0; producing.get(); i++) {
                db.landNumbered(10_000 + i * 20, 20);
            }
        });
        try {
            db.execute("call pause_loading('the pending old documents must outlive the pruning')");
            producer.start();
            Cli.Result prune = Cli.run("prune", "--url", db.settings().url(), "--older-than", "30d",
                    "--batch-size", "500");
            assertEquals(0, prune.exitCode(), prune::toString);
            assertTrue(prune.out().contains("pruned 3100 landing row(s) landed before "), prune::toString);
            assertEquals(200, db.count("select count(*) from fake_json_request where landed_at < now() - interval '30 days'"),
                    "the pending old documents are kept");
            // Again, while serve loads: 2,000 more old documents, pending until the resume, are loaded by serve and
            // pruned behind it in small batches; a prune call counts when it removed rows while serve committed batches.
            landOld(20_000, 2_000);
            db.execute("call resume_loading()");
            boolean overlapped = false;
            for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); !overlapped && System.nanoTime() < end; ) {
                long batches = db.count("select count(*) from test_mv.load_batches");
                long pruned = db.count("select pruned_documents from test_mv.load_control");
                db.execute("call prune_landing(interval '30 days', p_batch_size => 7)");
                overlapped = db.count("select count(*) from test_mv.load_batches") > batches
                        && db.count("select pruned_documents from test_mv.load_control") > pruned;
            }
            assertTrue(overlapped, "no prune that removed rows ran while serve committed batches");
        } finally {
            producing.set(false);
            producer.join();
        }
        Waiting.until(() -> db.count("select documents from test_mv.pending()") == 0, 60);
        serve.destroy();
        assertTrue(serve.waitFor(10, TimeUnit.SECONDS));
        assertAccountingWhole("after");
        assertTrue(db.count("select pruned_documents from test_mv.load_control") >= 3101);

        // A twin of a pruned document is still a duplicate: its key stayed with the client.
        landOld(17, 1);
        db.execute("call load_pending(100)");
        assertEquals(List.of(List.of(18L)), db.query("select duplicate_of from test_mv.load_duplicates"
                + " where request_id = (select max(id) from fake_json_request)"));

        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertEquals(0, verify.exitCode(), verify::toString);
        assertTrue(verify.out().contains("Not checkable: "), verify::toString);
        assertTrue(Cli.run("status", "--url", db.settings().url()).out().contains("; pruned "));
    }

    /** The landing table holds fewer rows, and after VACUUM new landings go into the space the pruned rows left. */
    @Test
    void the_landing_table_shrinks_in_rows_and_its_space_is_reused() {
        landOld(0, 5000);
        db.execute("call load_pending(1000)");
        db.execute("vacuum fake_json_request");
        long bytes = db.count("select pg_table_size('fake_json_request')");
        db.execute("call prune_landing(interval '30 days')");
        assertEquals(0, db.count("select count(*) from fake_json_request"));
        db.execute("vacuum fake_json_request");
        db.landNumbered(100_000, 4000);
        assertEquals(4000, db.count("select count(*) from fake_json_request"));
        assertTrue(db.count("select pg_table_size('fake_json_request')") <= bytes,
                "the new landings took the pruned rows' space instead of growing the table");
    }

    @Test
    void a_landing_row_deleted_by_hand_is_still_a_difference() {
        landOld(0, 10);
        db.execute("call load_pending(100)");
        db.execute("call prune_landing(interval '30 days', p_batch_size => 4)");
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
        db.execute("insert into fake_json_request (stage) values ('{\"application_id\": 99}')");
        db.execute("call load_pending(100)");
        db.execute("delete from fake_json_request where id = 11");
        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertEquals(1, verify.exitCode(), verify::toString);
    }

    @Test
    void the_run_history_and_the_records_of_duplicates_go_with_their_own_cutoffs() {
        landOld(0, 10);
        landOld(0, 10);
        db.execute("call load_pending(5)");
        db.execute("update test_mv.load_batches set started_at = started_at - interval '100 days'");
        db.execute("call prune_landing(interval '30 days', p_history_older_than => interval '90 days',"
                + " p_duplicates_older_than => interval '60 days')");
        assertEquals(0, db.count("select count(*) from fake_json_request"));
        assertEquals(0, db.count("select count(*) from test_mv.load_batches"));
        assertEquals(0, db.count("select count(*) from test_mv.load_duplicates"));
        assertEquals(10, db.count("select count(*) from test_mv.clients"));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
        Cli.Result bad = Cli.run("prune", "--url", db.settings().url(), "--older-than", "a month");
        assertEquals(2, bad.exitCode(), bad::toString);
    }
}
