package io.incrementalloader.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * After every run, load checks the documents the run took and the rows it wrote, and the documents changed by hand
 * since the last check; the verdict is in its output, in test_mv.run_checks and in status, and a difference makes
 * load exit 1.
 */
class RunCheckTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String FULL = "{\"application_id\": 1, \"phones\": [{\"home\": \"01\"}, {\"work\": \"02\"}],"
            + " \"addresses\": [{\"type\": \"work\", \"date\": \"01-02-2003\", \"address\": {\"flat\": 4}}],"
            + " \"products\": {\"product_cnt\": {\"pen\": 2}, \"product_cost\": {\"pen\": 3}, \"total_sum\": 6}}";

    private static Cli.Result load() {
        return Cli.run("load", "--batch-size", "3", "--url", db.settings().url());
    }

    private static Cli.Result status() {
        return Cli.run("status", "--url", db.settings().url());
    }

    private static void landMixed() {
        db.land(FULL, "{\"application_id\": 2, \"phones\": [{\"home\": \"03\"}]}",
                "{\"application_id\": 2, \"phones\": [{\"home\": \"03\"}]}", "{\"application_id\": \"bad\"}",
                "{\"application_id\": 14.0, \"addresses\": [{\"address\": {\"flat\": 2.00}}]}");
        db.landNumbered(100, 20);
    }

    @Test
    void every_run_of_load_is_checked_and_its_verdict_kept_in_the_run_history() {
        landMixed();
        Cli.Result result = load();
        assertEquals(0, result.exitCode(), result::toString);
        assertTrue(result.out().contains("Checked: the rows are what the documents map to"), result::toString);
        List<List<Object>> check = db.query("select first_batch_id, last_batch_id, verdict from test_mv.run_checks");
        assertEquals(List.of(List.of(db.count("select min(batch_id) from test_mv.load_batches"),
                db.count("select max(batch_id) from test_mv.load_batches"), "sound")), check);
        assertTrue(status().out().contains("Checked    batches "), status()::toString);
    }

    @Test
    void a_row_broken_while_its_run_loads_is_reported_by_that_run_with_exit_1() {
        db.land(FULL);
        db.loadAll(10);
        // Something the loader does not know of alters what it writes: a trigger a DBA added.
        db.execute("create function public.il_test_break() returns trigger language plpgsql as"
                + " $$ begin new.flat := new.flat + 1; return new; end $$;"
                + " create trigger il_test_break before insert on test_mv.addresses for each row"
                + " execute function public.il_test_break()");
        try {
            landMixed();
            Cli.Result result = load();
            assertEquals(1, result.exitCode(), result::toString);
            assertTrue(result.err().contains("DIFFERENT addresses: 1 expected row(s) missing, 1 unexpected"),
                    result::toString);
            assertEquals(1L, db.count("select count(*) from test_mv.run_checks where verdict like 'addresses:%'"));
        } finally {
            db.execute("drop trigger il_test_break on test_mv.addresses; drop function public.il_test_break()");
        }
    }

    @Test
    void a_long_run_is_checked_in_chunks_while_it_loads_and_a_difference_in_any_chunk_is_reported() throws Exception {
        db.landNumbered(0, 40);
        db.land(FULL); // the 41st document, the only one with an address: in batch 11, a chunk checked in the background
        db.landNumbered(100, 40);
        // A trigger damages that address as it is written.
        db.execute("create function public.il_test_break() returns trigger language plpgsql as"
                + " $$ begin new.flat := new.flat + 1; return new; end $$;"
                + " create trigger il_test_break before insert on test_mv.addresses for each row"
                + " execute function public.il_test_break()");
        int batches;
        try (Connection connection = db.connect(); RunChecker checker = new RunChecker(db.settings(), 10)) {
            BatchFigures run = new BatchLoader(4).drain(connection, () -> false, checker::afterBatch);
            RunCheck.Verdict verdict = checker.finish(connection, run);
            batches = run.batches();
            assertTrue(batches >= 21, "81 documents, batches of at most 4: " + batches);
            assertEquals("batches 1-" + batches, verdict.covered());
            assertEquals(List.of("addresses"), verdict.differences().stream().map(Reconciliation.Difference::table)
                    .toList(), verdict::toString);
            assertTrue(verdict.afterLoadSeconds() <= verdict.seconds(), verdict::toString);
        } finally {
            db.execute("drop trigger il_test_break on test_mv.addresses; drop function public.il_test_break()");
        }
        assertEquals(List.of(List.of(1L, (long) batches)), db.query("select first_batch_id, last_batch_id"
                + " from test_mv.run_checks where verdict like 'addresses:%'"));
    }

    @Test
    void a_row_broken_after_its_run_is_reported_by_the_next_load_with_exit_1_and_shown_by_status() {
        landMixed();
        assertEquals(0, load().exitCode());
        db.execute("update test_mv.phones set number = 'broken' where number = '02'");

        Cli.Result next = load(); // nothing new is pending: it checks what was changed
        assertEquals(1, next.exitCode(), next::toString);
        assertTrue(next.err().contains("(1 document(s) changed by hand)"), next::toString);
        assertTrue(next.err().contains("DIFFERENT phones: 1 expected row(s) missing, 1 unexpected row(s);"
                + " first: missing (1, 2, work, 02); unexpected (1, 2, work, broken)"), next::toString);
        assertTrue(status().out().contains("Checked    1 document(s) changed by hand"), status()::toString);

        // The change is checked once; the difference stays in the history and in status.
        landMixed();
        Cli.Result after = load();
        assertEquals(0, after.exitCode(), after::toString);
        Cli.Result status = status();
        assertTrue(status.out().contains("Different  the check of 1 document(s) changed by hand"), status::toString);
    }

    @Test
    void a_document_deleted_by_hand_loses_its_outcome_and_the_next_load_says_so() {
        landMixed();
        assertEquals(0, load().exitCode());
        db.execute("delete from test_mv.phones where client_id = 2; delete from test_mv.clients where client_id = 2");
        Cli.Result next = load();
        assertEquals(1, next.exitCode(), next::toString);
        assertTrue(next.err().contains("document 2 has 0 outcomes instead of one"), next::toString);
    }

    @Test
    void a_truncated_table_is_reported_by_the_next_load() {
        landMixed();
        assertEquals(0, load().exitCode());
        db.execute("truncate test_mv.products");
        Cli.Result next = load();
        assertEquals(1, next.exitCode(), next::toString);
        assertTrue(next.err().contains("DIFFERENT products: 0 expected row(s) missing, 0 unexpected row(s); first:"
                + " emptied by TRUNCATE at "), next::toString);
    }
    /**
     * Batches of the data's lifecycle (reject, reprocess) between a run's batches are not the run's: a chunk of the
     * run's check, which does not take in documents changed by hand, finds no difference because of them; the check
     * with the changes takes their documents in and finds the rows right.
     */
    @Test
    void a_rejection_and_a_reprocessing_between_a_runs_batches_are_no_difference() throws Exception {
        db.landNumbered(20);
        db.execute("call load_batch(10)");
        db.execute("call load_batch(10)");
        db.landNumbered(20, 15); // the run; between its batches, documents of an earlier run go and come
        long first = db.count("select max(batch_id) + 1 from test_mv.load_batches");
        db.execute("call load_batch(5)");
        db.execute("call reject_document(3, 'by hand')");
        db.execute("call reprocess_rejected()");
        db.execute("call load_batch(5)");
        db.execute("call reject_document(4, 'by hand')");
        db.execute("call load_batch(5)");
        long last = db.count("select max(batch_id) from test_mv.load_batches");
        assertEquals(List.of("load", "reject", "reprocess", "load", "reject", "load"), kindsInOrder(first, last));
        try (Connection connection = db.connect()) {
            assertEquals(List.of(), Reconciliation.checkChunk(connection, first, last));
            assertEquals(List.of(), Reconciliation.checkRun(connection, first, last).differences());
        }
    }

    /** The kinds of the batches first to last, in order, runs of one kind as one (a call loads a batch a lane). */
    private static List<String> kindsInOrder(long first, long last) {
        List<String> kinds = new java.util.ArrayList<>();
        for (List<Object> row : db.query("select kind from test_mv.load_batches where batch_id between " + first
                + " and " + last + " order by batch_id")) {
            if (kinds.isEmpty() || !kinds.get(kinds.size() - 1).equals(row.get(0))) {
                kinds.add((String) row.get(0));
            }
        }
        return kinds;
    }

    /**
     * An edit whose transaction took a lower change id but committed after a check's snapshot is not forgotten by
     * that check: the next one takes it in and reports it. And a check marks what it took in, never deletes it.
     */
    @Test
    void an_edit_committed_after_a_checks_snapshot_is_checked_by_the_next_run() throws Exception {
        db.landNumbered(5);
        assertEquals(0, load().exitCode());
        long broken = db.count("select min(client_id) from test_mv.phones");
        try (Connection slow = db.connect()) {
            slow.setAutoCommit(false);
            slow.createStatement().execute("update test_mv.phones set number = 'broken' where client_id = " + broken);
            db.execute("update test_mv.phones set number = number where client_id = " + (broken + 1)); // a later id, committed
            db.landNumbered(100, 3);
            Cli.Result meanwhile = load();
            assertEquals(0, meanwhile.exitCode(), meanwhile::toString); // it saw the harmless edit, not the open one
            slow.commit();
        }
        assertEquals(List.of(List.of(broken)), db.query("select client_id from test_mv.changed_documents where checked_by is null"));
        Cli.Result next = load();
        assertEquals(1, next.exitCode(), next::toString);
        assertTrue(next.err().contains("phones"), next::toString);
        assertEquals(List.of(List.of(2L, 0L)), db.query("select count(*), count(*) filter (where checked_by is null)"
                + " from test_mv.changed_documents"), "both edits are kept, each marked by the check that took it in");
    }
}
