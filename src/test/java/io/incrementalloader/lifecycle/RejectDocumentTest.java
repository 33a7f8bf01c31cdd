package io.incrementalloader.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** reject_document: a loaded document that should not have been goes, with its rows, in one transaction. */
class RejectDocumentTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String DOCUMENT = "{\"application_id\": 7, \"phones\": [{\"mobile\": \"1\"}, {\"home\": \"2\"}],"
            + " \"addresses\": [{\"type\": \"home\", \"date\": \"01-02-2020\", \"address\": {\"city\": \"X\"}}],"
            + " \"products\": {\"product_cnt\": {\"a\": 1}, \"product_cost\": {\"a\": 2}, \"total_sum\": 2}}";

    @Test
    void it_removes_the_rows_records_why_rejects_the_duplicates_too_and_verify_stays_sound() {
        db.landNumbered(5);
        db.land(DOCUMENT, DOCUMENT); // documents 6 and 7: 7 is a duplicate of 6
        db.landNumbered(5, 5);
        db.execute("call load_batch(100)");

        Cli.Result reject = Cli.run("reject", "--url", db.settings().url(), "6", "test", "data");
        assertEquals(0, reject.exitCode(), reject::toString);
        assertTrue(reject.out().contains("document 6 rejected, its rows removed"), reject::toString);

        assertEquals(0, db.count("select count(*) from test_mv.clients where client_id = 6"));
        for (String table : List.of("phones", "addresses", "products")) {
            assertEquals(0, db.count("select count(*) from test_mv." + table + " where client_id = 6"), table);
        }
        List<List<Object>> errors = db.query("select request_id, reason from test_mv.load_errors order by 1");
        assertEquals(2, errors.size(), errors::toString);
        assertTrue(errors.get(0).get(1).toString().startsWith("rejected by hand by postgres ("), errors::toString);
        assertTrue(errors.get(0).get(1).toString().endsWith("): test data"), errors::toString);
        assertTrue(errors.get(1).get(1).toString().startsWith("a duplicate of document 6, which is rejected: "),
                errors::toString);
        assertEquals(0, db.count("select count(*) from test_mv.load_duplicates"));
        assertEquals(List.of(List.of(10L, 2L, 0L)), db.query(TestDatabase.TOTALS));
        assertEquals(List.of(List.of("reject", 1, 2)),
                db.query("select kind, taken, rejected from test_mv.load_batches where kind <> 'load'"));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode(), "the next run's check is sound");
        assertTrue(Cli.run("status", "--url", db.settings().url()).out().matches("(?s).*\\n +"
                + db.count("select batch_id from test_mv.load_batches where kind = 'reject'") + "  reject +.*"),
                "status names the batch's kind");

        // Rejected by hand, it goes through again like any other when a reprocessing chooses it.
        db.execute("call reprocess_rejected()");
        assertEquals(1, db.count("select count(*) from test_mv.clients where client_id = 6"));
        assertEquals(List.of(List.of(7L, 6L)), db.query("select request_id, duplicate_of from test_mv.load_duplicates"));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
    }

    @Test
    void a_document_that_is_not_loaded_is_refused_with_what_it_is() {
        db.land("{\"application_id\": 1}", "{\"application_id\": 1}", "{\"application_id\": []}");
        db.execute("call load_batch(100)");
        db.land("{\"application_id\": 2}");
        assertRefused("2", "document 2 is not loaded: it is a duplicate of document 1: reject that one");
        assertRefused("3", "document 3 is not loaded: it is rejected already");
        assertRefused("4", "document 4 is not loaded: it is pending");
        assertRefused("99", "document 99 is not loaded: no such document was landed");
        Cli.Result noReason = Cli.run("reject", "--url", db.settings().url(), "1", " ");
        assertEquals(2, noReason.exitCode(), noReason::toString);
        assertEquals(1, db.count("select count(*) from test_mv.clients"));
    }

    private static void assertRefused(String id, String message) {
        Cli.Result result = Cli.run("reject", "--url", db.settings().url(), id, "a reason");
        assertEquals(2, result.exitCode(), result::toString);
        assertTrue(result.err().contains(message), result::toString);
        assertTrue(!result.err().contains("\tat "), "no stack trace: " + result);
    }
}
