package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.verify.Reconciliation;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No document, of any size or content, stops loading: what PostgreSQL could not store, index or hash is rejected
 * with a reason before it can fail a batch, and what nobody foresaw is isolated by the safety net.
 */
class HostileDocumentsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** Lands one document built by SQL (some cannot be written as JSON text of a sane size). */
    private static void landBuilt(String selectOneJsonb) {
        db.execute("insert into fake_json_request (stage) " + selectOneJsonb);
    }

    @Test
    void poison_documents_among_good_ones_are_rejected_with_reasons_and_every_batch_completes() throws SQLException {
        db.land("{\"application_id\": 1, \"phones\": [{\"mobile\": \"1\"}]}");
        // A product name no btree entry can hold: 3,200 bytes of hex, which does not compress.
        landBuilt("select jsonb_build_object('application_id', 2, 'products', jsonb_build_object('product_cnt',"
                + " jsonb_build_object(string_agg(md5(i::text), ''), 1))) from generate_series(1, 100) i");
        db.land("{\"application_id\": 3}");
        // 131 kB of jsonb whose text form would be 1.07 GB: 8,200 numbers of 131,072 digits.
        landBuilt("select jsonb_build_object('application_id', 4, 'junk', jsonb_agg(1e131071::numeric))"
                + " from generate_series(1, 8200)");
        // Large but fine: 100,000 phones, addresses and products.
        landBuilt("select jsonb_build_object('application_id', 5, 'phones',"
                + " jsonb_agg(jsonb_build_object('mobile', i::text))) from generate_series(1, 100000) i");
        landBuilt("select jsonb_build_object('application_id', 6, 'addresses', jsonb_agg(jsonb_build_object('type', 'home',"
                + " 'date', '01-01-2000', 'address', jsonb_build_object('city', 'x', 'flat', i)))) from generate_series(1, 100000) i");
        landBuilt("select jsonb_build_object('application_id', 7, 'products', jsonb_build_object('product_cnt',"
                + " jsonb_object_agg('p' || i, i), 'product_cost', jsonb_object_agg('p' || i, i), 'total_sum', 5))"
                + " from generate_series(1, 100000) i");
        // A long name that compresses well still fits an index entry, but the limit is on its length: rejected.
        landBuilt("select jsonb_build_object('application_id', 8, 'products', jsonb_build_object('product_cnt',"
                + " jsonb_build_object(repeat('a', 5000), 1)))");
        db.land("{\"application_id\": 9, \"products\": {\"product_cnt\": {\"" + "b".repeat(2000) + "\": 1}}}");

        db.execute("call load_pending(3)");

        assertEquals(List.of(List.of(1L), List.of(3L), List.of(5L), List.of(6L), List.of(7L), List.of(9L)),
                db.query("select client_id from test_mv.clients order by 1"));
        List<List<Object>> reasons = db.query("select request_id, reason from test_mv.load_errors order by 1");
        assertEquals(3, reasons.size(), reasons::toString);
        assertTrue(reasons.get(0).get(1).toString().startsWith("products.product_cnt.c4ca4238"), reasons::toString);
        assertTrue(reasons.get(0).get(1).toString().contains("longer than the 2000 bytes allowed"), reasons::toString);
        assertTrue(reasons.get(0).get(1).toString().length() < 200, "a huge key makes no huge reason");
        assertTrue(reasons.get(1).get(1).toString().startsWith("document: its text form would exceed"), reasons::toString);
        assertTrue(reasons.get(2).get(1).toString().startsWith("products.product_cnt.aaaa"), reasons::toString);
        assertEquals(100_001L, db.count("select count(*) from test_mv.phones"));
        assertEquals(100_000L, db.count("select count(*) from test_mv.addresses"));
        assertEquals(100_001L, db.count("select count(*) from test_mv.products"));
        assertEquals(9L, db.count("select max(last_request_id) from test_mv.load_metadata"));
        try (Connection connection = db.connect()) {
            assertEquals(List.of(), Reconciliation.check(connection));
            // The check after a run, over the same batches: as linear in a document's size as verify.
            assertEquals(List.of(), Reconciliation.checkRun(connection,
                    db.count("select min(batch_id) from test_mv.load_batches"),
                    db.count("select max(batch_id) from test_mv.load_batches")).differences());
        }
        // The stage still reads, with no hash for the document that has no text form to hash.
        assertEquals(List.of(List.of(4L)), db.query("select id from stage_json_with_date where hash is null"));
    }

    @Test
    void a_document_that_fails_the_batch_for_a_reason_no_check_foresees_is_rejected_alone_with_its_sqlstate() {
        db.execute("create function test_mv.refuse_thirteen() returns trigger language plpgsql as $$ begin"
                + " if new.application_id = 13 then raise exception 'thirteen is unlucky'; end if; return new; end $$;"
                + " create trigger refuse_thirteen before insert on test_mv.clients for each row"
                + " execute function test_mv.refuse_thirteen()");
        try {
            db.landNumbered(40);
            db.execute("call load_batch(100)");
            db.execute("call load_pending(100)");

            assertEquals(List.of(List.of(14L, "the batch failed on this document: P0001 thirteen is unlucky")),
                    db.query("select request_id, reason from test_mv.load_errors"));
            assertEquals(39L, db.count("select count(*) from test_mv.clients"));
            assertEquals(40L, db.count("select max(last_request_id) from test_mv.load_metadata"));
            assertEquals(40L, db.count("select sum(taken) from test_mv.load_batches"),
                    "every document taken once, in the run history too");
            assertEquals(List.of(List.of(39L, 1L, 0L)), db.query(TestDatabase.TOTALS), "the running totals, the safety net's too");
        } finally {
            db.execute("drop trigger refuse_thirteen on test_mv.clients; drop function test_mv.refuse_thirteen()");
        }
    }

    @Test
    void an_error_of_the_environment_fails_the_batch_and_rejects_nothing() {
        db.execute("create function test_mv.disk_is_full() returns trigger language plpgsql as $$ begin"
                + " raise exception 'no space left on device' using errcode = 'disk_full'; end $$;"
                + " create trigger disk_is_full before insert on test_mv.clients for each row"
                + " execute function test_mv.disk_is_full()");
        try {
            db.landNumbered(10);
            SQLException failure = assertThrows(SQLException.class, () -> {
                try (Connection connection = db.connect()) {
                    connection.createStatement().execute("call load_batch(100)");
                }
            });
            assertEquals("53100", failure.getSQLState());
            assertEquals(0L, db.count("select count(*) from test_mv.load_errors"));
            assertEquals(0L, db.count("select max(last_request_id) from test_mv.load_metadata"));
        } finally {
            db.execute("drop trigger disk_is_full on test_mv.clients; drop function test_mv.disk_is_full()");
        }
    }
}
