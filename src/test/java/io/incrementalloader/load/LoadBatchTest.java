package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.generate.Malformation;
import io.incrementalloader.testing.LoadedRows;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** load_batch as a DBA calls it: what one call does, what the mapping gives, what is rejected and why. */
class LoadBatchTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final String CONTRACT_EXAMPLE = """
            {"application_id": 14, "client_id": 31,
             "phones": [{"mobile": "0901300352"}, {"work": "5005487696"}, {"home": "0457644168"}],
             "addresses": [
               {"type": "registration", "date": "17-08-1956",
                "address": {"city": "moscow", "street": "Ленина", "house": "1", "flat": 2}},
               {"type": "residential", "date": "20-01-1986",
                "address": {"city": "moscow", "street": "Ленина", "house": "2", "flat": 3}},
               {"type": "work", "date": null, "address": null}],
             "products": {"product_cnt": {"pensil": 4, "pen": 4}, "product_cost": {"pensil": 100, "pen": 10},
                          "total_sum": 451}}""";

    @Test
    void the_contracts_example_becomes_exactly_the_rows_the_mapping_gives() {
        db.land(CONTRACT_EXAMPLE);
        db.execute("call load_batch(100)");

        LoadedRows rows = db.jooq(LoadedRows::read);
        assertEquals(List.of("1 | 14"), rows.clients());
        assertEquals(List.of("1 | 1 | mobile | 0901300352", "1 | 2 | work | 5005487696", "1 | 3 | home | 0457644168"),
                rows.phones());
        assertEquals(List.of("1 | 1 | registration | 1956-08-17 | moscow | Ленина | 1 | 2",
                "1 | 2 | residential | 1986-01-20 | moscow | Ленина | 2 | 3",
                "1 | 3 | work | null | null | null | null | null"), rows.addresses());
        assertEquals(List.of("1 | pen | 4 | 10 | 451", "1 | pensil | 4 | 100 | 451"), rows.products());
    }

    /** The original design's queries, exactly as written, on a freshly migrated database. */
    @Test
    void the_original_designs_queries_run_unchanged() {
        db.land(CONTRACT_EXAMPLE, "{\"application_id\": 15, \"addresses\": [{\"type\": \"x\", \"date\": \"31-02-2020\"}]}");
        db.execute("call load_batch(100)");

        assertEquals(List.of(List.of(14, "mobile", "0901300352"), List.of(14, "work", "5005487696"),
                List.of(14, "home", "0457644168")), db.query("select c.application_id, p.type, p.number from test_mv.clients c"
                + " join test_mv.phones p using (client_id)"));
        assertEquals(3, db.query("select c.application_id, a.type, a.date, a.city, a.street, a.house, a.flat"
                + " from test_mv.clients c join test_mv.addresses a using (client_id)").size());
        assertEquals(2, db.query("select c.application_id, p.product_name, p.count, p.cost, p.total_sum"
                + " from test_mv.clients c join test_mv.products p using (client_id)").size());
        List<List<Object>> stage = db.query("select json_data_hash, date, json_data from stage_json_with_date"
                + " order by date asc, json_data_hash asc");
        assertEquals(java.sql.Date.valueOf("1956-08-17"), stage.get(0).get(1), "the first address's date");
        assertEquals(null, stage.get(1).get(1), "31-02-2020 is no date: null, not an error");
        // The seed's query finds the last document taken, whichever lane it was in (the two land in lanes their
        // keys decide): its date and hash, as the stage shows them.
        assertEquals(List.of(List.of(true, true)), db.query("select m.last_date is not distinct from s.date,"
                + " m.last_hash = s.json_data_hash from (select * from test_mv.load_metadata order by updated_at desc"
                + " limit 1) m join stage_json_with_date s on s.id = m.last_request_id"));
        assertEquals(db.count("select count(distinct test_mv.document_lane(document_key)) from fake_json_request"),
                db.count("select count(*) from test_mv.load_metadata m join stage_json_with_date s"
                        + " on s.id = m.last_request_id and m.last_hash = s.json_data_hash"
                        + " and m.last_date is not distinct from s.date"), "each lane that moved describes its last document");
        assertEquals(3L, db.count("select count(distinct phone_id) from test_mv.phones"));
    }

    @Test
    void four_calls_over_250_pending_documents_leave_100_200_250_250_clients() {
        db.landNumbered(250);
        long[] clients = new long[4];
        for (int call = 0; call < 4; call++) {
            db.execute("call load_batch(100)");
            clients[call] = db.count("select count(*) from test_mv.clients");
        }
        assertEquals(List.of(100L, 200L, 250L, 250L), List.of(clients[0], clients[1], clients[2], clients[3]));
    }

    @Test
    void load_pending_drains_everything_in_one_committed_transaction_per_batch() {
        db.landNumbered(250);

        db.execute("call load_pending(100)");

        assertEquals(250, db.count("select count(*) from test_mv.clients"));
        // A batch a lane (V011): each took at most 100 documents, of its own lane, all of them loaded.
        long batches = db.count("select count(*) from test_mv.load_batches");
        assertEquals(List.of(List.of(250L, 250L, batches, batches)), db.query("select sum(taken), sum(loaded),"
                + " count(distinct lane), count(*) filter (where taken between 1 and 100) from test_mv.load_batches"));
        assertEquals(batches, db.count("select count(distinct xmin::text) from test_mv.load_batches"));
    }

    @Test
    void load_pending_returns_when_the_rest_waits_for_an_older_open_transaction() throws SQLException {
        db.landNumbered(10);
        try (Connection older = db.connect()) {
            older.setAutoCommit(false);
            // An older producer, still open: it landed, so what landed after it waits.
            older.createStatement().execute("insert into fake_json_request (stage) values ('{\"application_id\": 100}')");
            db.landNumbered(11, 5);

            db.execute("call load_pending(3)");
            assertEquals(10, db.count("select count(*) from test_mv.clients"));

            older.commit();
        }
        db.execute("call load_pending(3)");
        assertEquals(16, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_call_with_nothing_pending_changes_nothing() {
        db.landNumbered(3);
        db.execute("call load_batch(100)");
        Object before = db.query("select * from test_mv.load_metadata order by lane").toString();
        long batches = db.count("select count(*) from test_mv.load_batches");

        db.execute("call load_batch(100)");

        assertEquals(before, db.query("select * from test_mv.load_metadata order by lane").toString());
        assertEquals(batches, db.count("select count(*) from test_mv.load_batches"));
    }

    @Test
    void load_metadata_describes_the_last_document_taken() {
        db.landNumbered(5);
        db.execute("call load_batch(3)");
        // The seed's query: the row moved last is the last batch's lane, at the last document that batch took.
        List<Object> position = db.query("select last_request_id, last_hash, last_date, last_batch_id,"
                + " updated_at is not null from test_mv.load_metadata order by updated_at desc limit 1").get(0);
        List<Object> last = db.query("select id, hash, date from stage_json_with_date where id = (select"
                + " last_request_id from test_mv.load_batches order by batch_id desc limit 1)").get(0);
        assertEquals(last, position.subList(0, 3));
        assertEquals(db.queryOne("select max(batch_id) from test_mv.load_batches"), position.get(3));
        assertEquals(true, position.get(4));
        assertEquals(3, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void the_run_history_counts_what_each_batch_took_loaded_rejected_and_skipped() {
        db.land(CONTRACT_EXAMPLE, CONTRACT_EXAMPLE, "{\"application_id\": \"x\"}", "{\"application_id\": 5}");
        db.execute("call load_batch(10)");
        // One call, a batch a lane it took documents from: together they took the four.
        assertEquals(List.of(10, 4L, 2L, 1L, 1L, 3L, 3L, 2L, 1L, 4L),
                db.query("select max(batch_size), sum(taken), sum(loaded), sum(rejected), sum(duplicates), sum(phones),"
                        + " sum(addresses), sum(products), min(first_request_id), max(last_request_id)"
                        + " from test_mv.load_batches").get(0));
    }

    /** Foreign-key checks run when the statement that wrote the rows ends; a batch's duration must include them. */
    @Test
    void a_batchs_recorded_duration_includes_what_runs_after_its_rows_are_written() {
        db.landNumbered(3);
        db.execute("create function test_mv.slow_check() returns trigger language plpgsql as"
                + " $$ begin perform pg_sleep(0.3); return null; end $$;"
                + " create trigger slow_check after insert on test_mv.phones for each statement"
                + " execute function test_mv.slow_check()");
        try {
            db.execute("call load_batch(100)");
        } finally {
            db.execute("drop trigger slow_check on test_mv.phones; drop function test_mv.slow_check()");
        }
        assertTrue(db.count("select min((extract(epoch from finished_at - started_at) * 1000)::bigint)"
                + " from test_mv.load_batches where phones > 0") >= 300);
    }

    @ParameterizedTest
    @EnumSource(Malformation.class)
    void a_malformed_document_is_rejected_whole_with_a_reason_naming_the_field(Malformation malformation) {
        String document = malformation.document(new SplittableRandom(1));
        db.land(CONTRACT_EXAMPLE, document, "{\"application_id\": 7}");
        db.execute("call load_batch(100)");

        assertEquals(List.of(1L, 3L), db.query("select client_id from test_mv.clients order by 1").stream()
                .map(row -> row.get(0)).toList(), "the batch goes on around the malformed document");
        List<Object> error = db.query("select reason, json_data = '" + document.replace("'", "''")
                + "'::jsonb from test_mv.load_errors where request_id = 2").get(0);
        String reason = (String) error.get(0);
        assertTrue(reason.startsWith(malformation.field() + ":"), reason + " should name " + malformation.field());
        assertEquals(true, error.get(1), "the rejected document is kept as it was landed");
        assertEquals(0, db.count("select count(*) from test_mv.phones where client_id = 2")
                + db.count("select count(*) from test_mv.addresses where client_id = 2")
                + db.count("select count(*) from test_mv.products where client_id = 2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"application_id\": 1}",
            "{\"application_id\": 1, \"phones\": null, \"addresses\": null, \"products\": null}",
            "{\"application_id\": 1, \"phones\": [], \"addresses\": [], \"products\": {}}",
            "{\"application_id\": -2147483648, \"client_id\": \"not checked\", \"unknown\": {\"x\": [1]}}",
            "{\"application_id\": 2147483647, \"products\": {\"product_cnt\": {}, \"product_cost\": null, \"total_sum\": null}}",
            "{\"application_id\": 1, \"addresses\": [{\"type\": \"work\"}, {\"date\": \"29-02-2020\", \"address\": {}}]}",
            "{\"application_id\": 1, \"addresses\": [{\"address\": {\"flat\": null, \"city\": \"\\\"q\\\" \\\\ ü 日本\"}}]}",
            "{\"application_id\": 1, \"phones\": [{\"mobile\": null}, {\"x\\\\y\": \"'\\\"\"}]}",
            "{\"application_id\": 1, \"products\": {\"product_cnt\": {\"a\": 1}, \"product_cost\": {\"a\": null, \"b\": 2}}}",
    })
    void documents_the_contract_accepts_are_loaded(String document) {
        db.land(document);
        db.execute("call load_batch(100)");
        assertEquals(0, db.count("select count(*) from test_mv.load_errors"),
                () -> db.query("select reason from test_mv.load_errors").toString());
        assertEquals(1, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void strings_keep_leading_zeros_quotes_backslashes_and_any_unicode() {
        db.land("{\"application_id\": 1, \"phones\": [{\"home\": \"0007\"}, {\"work\": 42}],"
                + " \"addresses\": [{\"address\": {\"street\": \"O'Neil \\\"Old\\\" \\\\ road 日本橋 🚀\"}}]}");
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of("0007"), List.of("42")),
                db.query("select number from test_mv.phones order by position"));
        assertEquals("O'Neil \"Old\" \\ road 日本橋 🚀", db.queryOne("select street from test_mv.addresses"));
    }

    @Test
    void a_product_without_a_cost_gets_a_null_cost() {
        db.land("{\"application_id\": 1, \"products\": {\"product_cnt\": {\"pen\": 2}, \"total_sum\": 5}}");
        db.execute("call load_batch(100)");
        assertEquals(java.util.Arrays.asList("pen", 2, null, 5L),
                db.query("select product_name, count, cost, total_sum from test_mv.products").get(0));
    }

    /** 14.0 is the integer 14 written with a fraction; casting its text to integer would raise and stop every batch. */
    @Test
    void integers_written_with_a_fraction_or_an_exponent_load_as_integers_and_never_stop_the_batch() {
        db.land("{\"application_id\": 14.0, \"addresses\": [{\"address\": {\"flat\": 2.00}}],"
                + " \"products\": {\"product_cnt\": {\"pen\": 3.0}, \"product_cost\": {\"pen\": 1e2}, \"total_sum\": 3.0E2}}",
                "{\"application_id\": 15}");
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(1L, 14), List.of(2L, 15)),
                db.query("select client_id, application_id from test_mv.clients order by 1"));
        assertEquals(2, db.queryOne("select flat from test_mv.addresses"));
        assertEquals(List.of("pen", 3, 100L, 300L),
                db.query("select product_name, count, cost, total_sum from test_mv.products").get(0));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1})
    void a_batch_size_below_one_is_refused_and_changes_nothing(int batchSize) {
        db.landNumbered(2);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> db.execute("call load_batch(" + batchSize + ")"));
        assertTrue(refused.getMessage().contains("batch_size must be a positive integer"), refused.getMessage());
        assertEquals(0, db.count("select count(*) from test_mv.clients"));
        assertEquals(0L, db.queryOne("select max(last_request_id) from test_mv.load_metadata"));
    }

    @Test
    void a_batch_and_the_advance_of_load_metadata_roll_back_together() throws SQLException {
        db.landNumbered(10);
        try (Connection connection = db.connect()) {
            connection.setAutoCommit(false);
            connection.createStatement().execute("call load_batch(5)");
            connection.rollback();
        }
        assertEquals(0, db.count("select count(*) from test_mv.clients"));
        assertEquals(0L, db.queryOne("select max(last_request_id) from test_mv.load_metadata"));
        assertEquals(0, db.count("select count(*) from test_mv.load_batches"));
    }

    @Test
    void a_jdbc_prepared_statement_called_many_times_loads_every_document_once() throws SQLException {
        db.landNumbered(95);
        try (Connection connection = db.connect(); PreparedStatement call = connection.prepareStatement("call load_batch(?)")) {
            for (int i = 0; i < 12; i++) {
                call.setInt(1, 10);
                call.execute();
            }
        }
        assertEquals(95, db.count("select count(distinct client_id) from test_mv.clients"));
        // Batches of at most ten (a call's ten, from as many lanes as it took them from) took the 95, once each.
        assertEquals(List.of(List.of(95L, 10)), db.query("select sum(taken), max(taken) from test_mv.load_batches"));
        assertEquals(10, db.count("select count(distinct xmin::text) from test_mv.load_batches"),
                "ten calls of ten, one transaction each, took them; the last two found nothing");
    }

    /**
     * The statement is planned once a session (a generic plan), so its access paths must not depend on the table's
     * size or statistics: on a table of a few rows the planner would otherwise scan and sort the whole landing table,
     * a plan that, cached, would cost a full scan a batch once the table has grown.
     */
    @Test
    void the_batch_is_taken_through_the_lane_index_and_duplicates_found_through_the_key_index() throws SQLException {
        db.landNumbered(320); // some 20 a lane: each batch takes its 5 from one lane
        db.execute("analyze public.fake_json_request; analyze test_mv.clients");
        StringBuilder plans = new StringBuilder();
        try (Connection connection = db.connect(); Statement statement = connection.createStatement()) {
            statement.execute("load 'auto_explain'");
            statement.execute("set auto_explain.log_min_duration = 0");
            statement.execute("set auto_explain.log_nested_statements = on");
            statement.execute("set client_min_messages = log");
            for (int call = 0; call < 3; call++) {
                statement.execute("select test_mv.load_next_batch(5)");
                for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
                    plans.append(w.getMessage()).append('\n');
                }
                statement.clearWarnings();
            }
        }
        assertTrue(plans.toString().contains("Index Scan using ix_fake_json_request_lane on fake_json_request"), plans::toString);
        assertTrue(plans.toString().contains("Index Scan using ix_clients_document_key on clients"), plans::toString);
        assertFalse(plans.toString().contains("Seq Scan on fake_json_request"), plans::toString);
        assertEquals(15, db.count("select count(*) from test_mv.clients"));
    }
}
