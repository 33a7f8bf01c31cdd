package io.incrementalloader.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** reload_documents: the rows of loaded documents derived again from their landing rows, each once. */
class ReloadTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** Every column the loader derives, of every table: what a reload must derive again. */
    private static final String[] DERIVED = {
            "select client_id, application_id, document_key from test_mv.clients order by 1",
            "select client_id, position, type, number from test_mv.phones order by 1, 2",
            "select client_id, position, type, date, city, street, house, flat from test_mv.addresses order by 1, 2",
            "select client_id, product_name, count, cost, total_sum from test_mv.products order by 1, 2"};

    private static List<List<List<Object>>> derived() {
        return java.util.Arrays.stream(DERIVED).map(db::query).toList();
    }

    @Test
    void a_deliberately_damaged_row_is_restored_and_every_row_is_there_once() {
        db.execute("insert into fake_json_request (stage) select jsonb_build_object('application_id', g,"
                + " 'phones', jsonb_build_array(jsonb_build_object('mobile', '0' || g), jsonb_build_object('work', '1' || g)),"
                + " 'addresses', jsonb_build_array(jsonb_build_object('type', 'home', 'date', '01-02-2003', 'address',"
                + "   jsonb_build_object('city', 'c' || g, 'street', 's' || g, 'house', 'h' || g, 'flat', g))),"
                + " 'products', jsonb_build_object('product_cnt', jsonb_build_object('pen', g, 'ink', 1),"
                + "   'product_cost', jsonb_build_object('pen', 3, 'ink', g), 'total_sum', g * 4))"
                + " from generate_series(1, 250) g");
        db.execute("call load_pending(100)");
        List<List<List<Object>>> before = derived();
        // Every derived column of every table damaged somewhere, and rows deleted.
        db.execute("update test_mv.clients set application_id = -1 where client_id = 7;"
                + " update test_mv.clients set document_key = 0 where client_id = 8;"
                + " update test_mv.phones set number = 'tampered' where client_id = 42 and position = 1;"
                + " update test_mv.phones set type = 'fax', position = 9 where client_id = 43 and position = 2;"
                + " delete from test_mv.phones where client_id = 200;"
                + " update test_mv.addresses set type = 'x', date = '1999-01-01', city = 'x', street = 'x', house = 'x',"
                + "   flat = -1 where client_id = 50;"
                + " update test_mv.addresses set position = 5 where client_id = 51;"
                + " update test_mv.products set count = -1, cost = -1, total_sum = -1 where client_id = 60;"
                + " update test_mv.products set product_name = 'pencil' where client_id = 61 and product_name = 'pen';"
                + " delete from test_mv.products where client_id = 62");
        assertEquals(1, Cli.run("verify", "--url", db.settings().url()).exitCode(), "the damage is seen");

        Cli.Result reload = Cli.run("reload", "--url", db.settings().url(), "--from-id", "1", "--to-id", "250",
                "--batch-size", "30");
        assertEquals(0, reload.exitCode(), reload::toString);
        assertTrue(reload.out().contains("reloaded 250 document(s); 0 of them are no longer loaded"), reload::toString);

        List<List<List<Object>>> after = derived();
        for (int table = 0; table < DERIVED.length; table++) {
            assertEquals(before.get(table), after.get(table), DERIVED[table]);
        }
        assertEquals(9, db.count("select count(*) from test_mv.load_batches where kind = 'reload'"));
        assertEquals(List.of(List.of(250L, 0L, 0L)), db.query(TestDatabase.TOTALS));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode(), "the next run's check is sound");
    }

    /**
     * A reloaded document that fails alone (here a trigger refuses its phone) leaves clients for load_errors with the
     * error, its duplicates with it; the others are reloaded.
     */
    @Test
    void a_document_that_fails_alone_when_reloaded_is_rejected_with_its_duplicates() {
        db.landNumbered(20);
        db.landNumbered(7, 1); // document 21, a duplicate of document 8
        db.execute("call load_pending(100)");
        db.execute("create function test_mv.no_phone_07() returns trigger language plpgsql as $$ begin"
                + " if new.number = '07' then raise exception 'no such phone'; end if; return new; end $$;"
                + " create trigger no_phone_07 before insert on test_mv.phones for each row"
                + " execute function test_mv.no_phone_07()");
        try {
            db.execute("call reload_documents(1, 100)");
        } finally {
            db.execute("drop trigger no_phone_07 on test_mv.phones; drop function test_mv.no_phone_07()");
        }
        assertEquals(List.of(List.of(8L, "the batch failed on this document: P0001 no such phone"),
                        List.of(21L, "a duplicate of document 8, which is rejected: the batch failed on this document:"
                                + " P0001 no such phone")),
                db.query("select request_id, reason from test_mv.load_errors order by 1"));
        assertEquals(19, db.count("select count(*) from test_mv.clients"));
        assertEquals(0, db.count("select count(*) from test_mv.phones where client_id = 8"));
        assertEquals(List.of(List.of(19L, 2L, 0L)), db.query(TestDatabase.TOTALS));
        assertEquals(0, Cli.run("verify", "--url", db.settings().url()).exitCode());
    }

    @Test
    void only_the_range_is_reloaded_and_a_bad_range_is_refused() {
        db.landNumbered(20);
        db.execute("call load_batch(100)");
        db.execute("call reload_documents(5, 9)");
        assertEquals(List.of(List.of(5L, 9L, 5)), db.query("select min(client_id), max(client_id), count(*)::int"
                + " from test_mv.clients where batch_id = (select batch_id from test_mv.load_batches where kind = 'reload')"));
        Cli.Result bad = Cli.run("reload", "--url", db.settings().url(), "--from-id", "9", "--to-id", "5");
        assertEquals(2, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("reload_documents: give a range of request ids"), bad::toString);
    }
}
