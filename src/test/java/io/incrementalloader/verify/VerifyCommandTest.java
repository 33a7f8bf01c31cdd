package io.incrementalloader.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** verify proves a sound load sound, and names the table of any difference. */
class VerifyCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeEach
    void aSoundLoad() {
        db.land("{\"application_id\": 1, \"phones\": [{\"home\": \"01\"}, {\"work\": \"02\"}],"
                        + " \"addresses\": [{\"type\": \"work\", \"date\": \"01-02-2003\", \"address\": {\"flat\": 4}}],"
                        + " \"products\": {\"product_cnt\": {\"pen\": 2}, \"product_cost\": {\"pen\": 3}, \"total_sum\": 6}}",
                "{\"application_id\": 2, \"phones\": [{\"home\": \"03\"}]}",
                "{\"application_id\": 2, \"phones\": [{\"home\": \"03\"}]}",
                "{\"application_id\": \"bad\"}");
        db.loadAll(2);
    }

    Cli.Result verify() {
        return Cli.run("verify", "--url", db.settings().url());
    }

    @Test
    void a_sound_load_verifies_with_exit_0() {
        Cli.Result result = verify();
        assertEquals(0, result.exitCode(), result::toString);
        assertTrue(result.out().startsWith("Sound:"), result::toString);
    }

    @Test
    void integers_written_with_a_fraction_or_an_exponent_verify_as_the_integers_they_are() {
        db.land("{\"application_id\": 14.0, \"addresses\": [{\"address\": {\"flat\": 2.00}}],"
                + " \"products\": {\"product_cnt\": {\"pen\": 3.0}, \"product_cost\": {\"pen\": 1e2}, \"total_sum\": 3.0E2}}");
        db.loadAll(10);
        Cli.Result result = verify();
        assertEquals(0, result.exitCode(), result::toString);
    }

    @Test
    void verify_finds_a_load_in_progress_sound() throws Exception {
        db.landNumbered(100, 10_000);
        // A load of 1,000 batches paced to outlast several verifies, each batch committed as load_pending does.
        Thread loader = new Thread(() -> db.execute("do $$ begin for i in 1..1002 loop call load_batch(10); commit;"
                + " perform pg_sleep(0.005); end loop; end $$"));
        loader.start();
        int overlapped = 0;
        try {
            // Each verify counts when batches committed while it ran: it read one snapshot of a load in progress.
            while (loader.isAlive()) {
                long before = db.count("select count(*) from test_mv.load_batches");
                Cli.Result result = verify();
                assertEquals(0, result.exitCode(), result::toString);
                long after = db.count("select count(*) from test_mv.load_batches");
                overlapped += after > before && loader.isAlive() ? 1 : 0;
            }
        } finally {
            loader.join();
        }
        assertTrue(overlapped > 0, "no verify ran while the load committed batches");
        assertEquals(0, verify().exitCode());
        assertEquals(10_002, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_deleted_phone_row_fails_with_exit_1_naming_phones() {
        db.execute("delete from test_mv.phones where number = '02'");
        Cli.Result result = verify();
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.out().contains("DIFFERENT phones: 1 expected row(s) missing, 0 unexpected"), result::toString);
        assertTrue(result.out().contains("missing (1, 2, work, 02)"), result::toString);
    }

    @Test
    void a_changed_address_or_product_is_named_both_ways() {
        db.execute("update test_mv.addresses set flat = 5; update test_mv.products set cost = null");
        Cli.Result result = verify();
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.out().contains("DIFFERENT addresses: 1 expected row(s) missing, 1 unexpected"), result::toString);
        assertTrue(result.out().contains("DIFFERENT products: 1 expected row(s) missing, 1 unexpected"), result::toString);
    }

    @Test
    void a_document_loaded_twice_or_never_accounted_for_fails_the_accounting() {
        db.execute("insert into test_mv.load_errors (request_id, batch_id, reason, json_data) values (2, 0, 'x', '{}');"
                + " delete from test_mv.load_duplicates");
        Cli.Result result = verify();
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.out().contains("DIFFERENT accounting"), result::toString);
        assertTrue(result.out().contains("document 2 has 2 outcomes"), result::toString);
        assertTrue(result.out().contains("document 3 has 0 outcomes"), result::toString);
    }

    @Test
    void a_client_row_without_its_document_is_unexpected() {
        db.execute("insert into test_mv.clients (client_id, application_id, document_key, batch_id)"
                + " values (99, 7, 99, 0)");
        Cli.Result result = verify();
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.out().contains("DIFFERENT clients: 0 expected row(s) missing, 1 unexpected"), result::toString);
    }

    @Test
    void a_document_loaded_twice_fails_naming_clients() {
        db.execute("delete from test_mv.load_duplicates where request_id = 3;"
                + " insert into test_mv.clients (client_id, application_id, batch_id, document_key)"
                + " select 3, application_id, batch_id, document_key from test_mv.clients"
                + " where client_id = 2;"
                + " insert into test_mv.phones select 3, position, type, number from test_mv.phones where client_id = 2");
        Cli.Result result = verify();
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.out().contains("document 2 is loaded, and so is document 3, equal to it"), result::toString);
    }
}
