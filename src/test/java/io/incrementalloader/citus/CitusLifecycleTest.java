package io.incrementalloader.citus;

import static io.incrementalloader.testing.Metrics.port;
import static io.incrementalloader.testing.Metrics.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.Main;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.testing.Waiting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data's lifecycle and the reports on a Citus cluster, through the commands an operator runs: pause and resume,
 * reject, reprocess, reload and prune keep every landed document at one outcome (verify says sound after each),
 * and status, status --json and a scrape of serve's metrics report the cluster's lanes.
 */
@Tag("citus")
class CitusLifecycleTest {
    @RegisterExtension
    static final TestDatabase db = TestDatabase.onCitus();

    @TempDir
    Path dir;

    private static Cli.Result run(String... args) {
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--url";
        full[args.length + 1] = db.settings().url();
        return Cli.run(full);
    }

    private static void assertSound() {
        Cli.Result verify = run("verify");
        assertEquals(0, verify.exitCode(), verify.toString());
        assertTrue(verify.out().contains("Sound"), verify.toString());
    }

    @Test
    void a_pause_stops_every_caller_until_resumed() {
        db.landNumbered(500);
        assertEquals(0, run("pause", "downstream", "migration").exitCode());
        Cli.Result load = run("load");
        assertTrue(load.out().contains("Nothing loaded: loading is paused"), load.toString());
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(true)), db.query("select batch_id is null from test_mv.load_lane(0, 100, null, 1000000)"));
        assertEquals(0, db.count("select count(*) from test_mv.clients"), "no caller took anything");
        assertTrue(run("status").out().contains("downstream migration"));

        assertEquals(0, run("resume").exitCode());
        assertEquals(0, run("load", "--workers", "2").exitCode());
        assertEquals(500, db.count("select count(*) from test_mv.clients"));
        assertSound();
    }

    @Test
    void reject_reprocess_reload_and_prune_keep_one_outcome_a_document() {
        db.landGenerated(41, 3_000, 0.1, 0.05);
        assertEquals(0, run("load").exitCode());
        long loaded = db.count("select count(*) from test_mv.clients");

        // A loaded document with a twin: rejected by hand, its twin goes with it, and its rows.
        long original = db.count("select min(d.duplicate_of) from test_mv.load_duplicates d");
        long twins = db.count("select count(*) from test_mv.load_duplicates where duplicate_of = " + original);
        Cli.Result reject = run("reject", String.valueOf(original), "a", "test");
        assertEquals(0, reject.exitCode(), reject.toString());
        assertEquals(1 + twins, db.count("select count(*) from test_mv.load_errors where request_id = " + original
                + " or reason like 'a duplicate of document " + original + ",%'"));
        assertEquals(0, db.count("select count(*) from test_mv.phones where client_id = " + original));
        assertSound();

        // Reprocessing the rejections by hand brings it back, and its twins are its duplicates again.
        Cli.Result reprocess = run("reprocess", "--reason-like", "%: a test");
        assertEquals(0, reprocess.exitCode(), reprocess.toString());
        assertEquals(1, db.count("select count(*) from test_mv.clients where client_id = " + original));
        assertEquals(twins, db.count("select count(*) from test_mv.load_duplicates where duplicate_of = " + original));
        assertEquals(loaded, db.count("select count(*) from test_mv.clients"));
        assertSound();

        // Reloading derives the rows again: the same rows, new ids.
        long phones = db.count("select count(*) from test_mv.phones");
        Cli.Result reload = run("reload", "--from-id", "1", "--to-id", "1000000");
        assertEquals(0, reload.exitCode(), reload.toString());
        assertEquals(phones, db.count("select count(*) from test_mv.phones"));
        assertEquals(loaded, db.count("select count(*) from test_mv.clients"));
        assertSound();

        // Pruned, the documents still decide their twins: landed again, each is a duplicate or rejected again.
        db.execute("select pg_sleep(1.1)");
        Cli.Result prune = run("prune", "--older-than", "1s");
        assertEquals(0, prune.exitCode(), prune.toString());
        assertEquals(0, db.count("select count(*) from fake_json_request"));
        assertTrue(db.count("select count(*) from test_mv.pruned_documents") >= loaded);
        db.landGenerated(41, 3_000, 0.1, 0.05);
        assertEquals(0, run("load").exitCode());
        assertEquals(loaded, db.count("select count(*) from test_mv.clients"), "no pruned document's twin loaded");
        assertEquals(List.of(List.of(loaded)), db.query("select sum(loaded_documents)::bigint from test_mv.load_metadata"));
        assertSound();
    }

    @Test
    void status_its_json_and_a_scrape_report_the_clusters_lanes() throws Exception {
        db.landNumbered(300);
        db.land("{\"application_id\": \"bad\"}");
        Cli.Result json = run("status", "--json");
        assertEquals(0, json.exitCode(), json.toString());
        assertTrue(json.out().contains("\"pending\":{\"documents\":301"), json.out());

        Path log = dir.resolve("serve.log");
        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--url", db.settings().url(),
                "--interval", "1s", "--workers", "2", "--http-port", "0").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            int port = port(log);
            Waiting.until(() -> db.count("select count(*) from test_mv.run_checks") > 0, 60);
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(300.0, value(metrics, "incremental_loader_documents_total{outcome=\"loaded\"}"), metrics);
            assertEquals(1.0, value(metrics, "incremental_loader_documents_total{outcome=\"rejected\"}"), metrics);
            assertEquals(0.0, value(metrics, "incremental_loader_pending_documents"), metrics);
            assertEquals(0.0, value(metrics, "incremental_loader_lane_lag_seconds{lane=\"7\"}"), metrics);
        } finally {
            serve.destroy();
            assertTrue(serve.waitFor(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of(List.of("sound")), db.query("select verdict from test_mv.run_checks order by check_id desc limit 1"));
        Cli.Result text = run("status");
        assertTrue(text.out().contains("loaded 300, rejected 1"), text.out());
        assertTrue(text.out().contains(": sound"), text.out());
    }

    @Test
    void the_safety_net_rejects_the_one_document_that_fails_and_its_breaker_stops_a_wrong_constraint() {
        db.landNumbered(300);
        db.execute("alter table test_mv.clients add constraint ck_not_13 check (application_id <> 13)");
        try {
            assertEquals(0, run("load").exitCode());
            assertEquals(299, db.count("select count(*) from test_mv.clients"));
            assertEquals(List.of(List.of(13)), db.query("select (json_data ->> 'application_id')::int from test_mv.load_errors"
                    + " where reason like 'the batch failed on this document: 23514%ck_not_13%'"));

            // A constraint that refuses every document: the lane's breaker trips after the limit, the rest stays pending.
            db.execute("update test_mv.load_control set safety_net_limit = 3");
            db.execute("alter table test_mv.clients add constraint ck_none check (application_id < 1000)");
            db.landNumbered(1000, 400);
            Cli.Result stopped = run("load");
            assertEquals(4, stopped.exitCode(), stopped.toString());
            assertTrue(stopped.err().contains("circuit breaker"), stopped.toString());
            long rejected = db.count("select count(*) from test_mv.load_errors where reason like '%ck_none%'");
            assertTrue(rejected >= 1 && rejected <= 3 * 16, "at most the limit a lane: " + rejected);
            assertTrue(db.count("select documents from test_mv.pending()") >= 400 - rejected);

            db.execute("alter table test_mv.clients drop constraint ck_none");
            assertEquals(0, run("load").exitCode());
            assertEquals(0, run("reprocess", "--reason-like", "%ck_none%").exitCode());
            assertEquals(699, db.count("select count(*) from test_mv.clients"), "everything but 13, once");
            assertSound();
        } finally {
            db.execute("alter table test_mv.clients drop constraint if exists ck_none;"
                    + " alter table test_mv.clients drop constraint if exists ck_not_13");
        }
    }
}
