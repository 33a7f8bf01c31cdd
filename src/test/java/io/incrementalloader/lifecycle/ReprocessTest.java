package io.incrementalloader.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.Main;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.testing.Waiting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * reprocess_rejected: after the rules change, the rejected documents that today's rules accept are loaded once,
 * the others stay rejected with today's reason, and every landed document keeps exactly one outcome.
 */
class ReprocessTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    /** An older release's rule, as a trigger: it rejects every document whose application_id ends in 3. */
    private void oldRule() {
        db.execute("create function test_mv.old_rule() returns trigger language plpgsql as $$ begin"
                + " if new.application_id % 10 = 3 then raise exception 'ends in 3'; end if; return new; end $$;"
                + " create trigger old_rule before insert on test_mv.clients for each row execute function test_mv.old_rule()");
    }

    private void newRelease() {
        db.execute("drop trigger old_rule on test_mv.clients; drop function test_mv.old_rule()");
    }

    @Test
    void after_a_rule_change_the_now_valid_documents_load_exactly_once_while_serve_loads_and_verify_passes() throws Exception {
        oldRule();
        db.landNumbered(300);
        db.land("{\"application_id\": \"not a number\"}");
        db.execute("call load_pending(100)");
        assertEquals(31, db.count("select count(*) from test_mv.load_errors"));
        newRelease();

        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--url",
                db.settings().url(), "--interval", "1s", "--batch-size", "20")
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        try {
            // Producers go on: twins of rejected documents (3, 13, ...) and of loaded ones, and new documents.
            db.landNumbered(0, 60);
            Cli.Result dryRun = Cli.run("reprocess", "--url", db.settings().url(), "--dry-run");
            assertTrue(dryRun.out().contains("rejected document(s) chosen; nothing changed (dry run)"), dryRun::toString);
            db.landNumbered(300, 100);
            Cli.Result reprocess = Cli.run("reprocess", "--url", db.settings().url(), "--batch-size", "7");
            assertEquals(0, reprocess.exitCode(), reprocess::toString);
            assertTrue(reprocess.out().contains("reprocessed 31 rejected document(s): "), reprocess::toString);
            Waiting.until(() -> db.count("select documents from test_mv.pending()") == 0, 60);
        } finally {
            serve.destroy();
            assertTrue(serve.waitFor(10, TimeUnit.SECONDS));
        }

        assertEquals(List.of(List.of("application_id: not a JSON integer in the 32-bit range")),
                db.query("select reason from test_mv.load_errors"), "today's rules still reject that one");
        assertEquals(400, db.count("select count(*) from test_mv.clients"), "each distinct document loaded once");
        assertEquals(60, db.count("select count(*) from test_mv.load_duplicates"), "each twin a duplicate, whoever came first");
        assertEquals(461, db.count("select count(*) from fake_json_request"));
        assertEquals(List.of(List.of(400L, 1L, 60L)), db.query(TestDatabase.TOTALS), "the running totals follow");
        assertTrue(db.count("select count(*) from test_mv.load_batches where kind = 'reprocess'") >= 5,
                "the run history says which batches reprocessed");
        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertEquals(0, verify.exitCode(), verify::toString);
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode(), "the next run's check is sound");
        assertTrue(Files.readString(dir.resolve("serve.log")).contains("run done"));
    }

    @Test
    void selectors_choose_by_reason_id_and_time_and_a_document_still_rejected_gets_todays_reason() throws Exception {
        oldRule();
        db.landNumbered(40); // 3, 13, 23, 33 rejected
        db.execute("call load_pending(100)");
        db.execute("update test_mv.load_errors set rejected_at = now() - interval '2 days' where request_id = 4");
        // Document 24 (application_id 23) is changed so that today's rules reject it too: not a JSON integer.
        db.execute("update test_mv.load_errors set json_data = '{\"application_id\": 2.5}' where request_id = 24");
        newRelease();

        db.execute("call reprocess_rejected(p_rejected_before => now() - interval '1 day')");
        assertEquals(List.of(List.of(14L), List.of(24L), List.of(34L)),
                db.query("select request_id from test_mv.load_errors order by 1"), "only the one rejected two days ago");
        db.execute("call reprocess_rejected(p_from_id => 30)");
        assertEquals(List.of(List.of(14L), List.of(24L)), db.query("select request_id from test_mv.load_errors order by 1"));
        db.execute("call reprocess_rejected('%ends in 3%')");
        assertEquals(List.of(List.of(24L, "application_id: not a JSON integer in the 32-bit range")),
                db.query("select request_id, reason from test_mv.load_errors"));
        assertEquals(39, db.count("select count(*) from test_mv.clients"));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
    }

    /** The safety net works for reprocessing too: the one document that still fails keeps its rejection, with why. */
    @Test
    void a_document_that_fails_alone_when_reprocessed_stays_rejected_with_the_error() {
        oldRule();
        db.landNumbered(30); // 3, 13, 23 rejected
        db.execute("call load_pending(100)");
        newRelease();
        db.execute("create function test_mv.still_no_13() returns trigger language plpgsql as $$ begin"
                + " if new.application_id = 13 then raise exception 'still not 13'; end if; return new; end $$;"
                + " create trigger still_no_13 before insert on test_mv.clients for each row"
                + " execute function test_mv.still_no_13()");
        try {
            db.execute("call reprocess_rejected()");
        } finally {
            db.execute("drop trigger still_no_13 on test_mv.clients; drop function test_mv.still_no_13()");
        }
        assertEquals(List.of(List.of(14L, "the batch failed on this document: P0001 still not 13")),
                db.query("select request_id, reason from test_mv.load_errors"));
        assertEquals(29, db.count("select count(*) from test_mv.clients"));
        assertEquals(List.of(List.of(29L, 1L, 0L)), db.query(TestDatabase.TOTALS));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
    }

    @Test
    void a_pause_stops_reprocessing_too() {
        oldRule();
        db.landNumbered(10);
        db.execute("call load_pending(100)");
        newRelease();
        db.execute("call pause_loading('not now')");
        IllegalStateException stopped = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> db.execute("call reprocess_rejected()"));
        org.junit.jupiter.api.Assertions.assertTrue(stopped.getMessage().contains(
                "stopped, as loading is paused (not now), after reprocessing 0 document(s)"), stopped.getMessage());
        assertEquals(1, db.count("select count(*) from test_mv.load_errors"));
        db.execute("call resume_loading()");
        db.execute("call reprocess_rejected()");
        assertEquals(0, db.count("select count(*) from test_mv.load_errors"));
    }
}
