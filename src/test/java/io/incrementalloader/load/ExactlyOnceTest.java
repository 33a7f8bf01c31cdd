package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.testing.ReferenceTables;
import io.incrementalloader.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every landed document ends up loaded exactly once, rejected, or counted as a duplicate: on a large mixed corpus. */
class ExactlyOnceTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    @Test
    void twenty_thousand_documents_with_duplicates_and_malformed_ones_leave_the_tables_the_reference_gives() throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        new DocumentGenerator(7, 0.05, 0.05).write(20_000, file);
        // Twins that differ from their original only in how numbers are written (14.0 for 14): equal as jsonb, so
        // duplicates, though their text (and its md5) differs.
        StringBuilder twins = new StringBuilder();
        JsonNode corpus = JSON.readTree(file.toByteArray());
        for (int i = 0; i < 300; i++) {
            twins.append(corpus.get(i).toString().replaceFirst("\"application_id\":(-?[0-9]+)([,}])",
                    "\"application_id\":$1.0$2")).append('\n');
        }
        try (Connection connection = db.connect()) {
            new DocumentImporter().importStream(connection, new ByteArrayInputStream(file.toByteArray()), "corpus", n -> { });
            new DocumentImporter().importStream(connection,
                    new ByteArrayInputStream(twins.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), "twins", n -> { });
        }
        db.loadAll(100);

        ReferenceTables reference = ReferenceTables.of(db);
        reference.assertLoaded(db);
        Map<Long, String> rejectedFields = reference.rejectedFields();
        Map<Long, Long> duplicates = reference.duplicates();
        assertTrue(duplicates.size() > 500 && rejectedFields.size() > 500, "the corpus mixes in both kinds");
        assertTrue(duplicates.keySet().stream().filter(id -> id > 20_000).count() > 250, "the respelled twins are duplicates");
        assertEquals(20_300, reference.documents());
    }

    @Test
    void documents_equal_as_jsonb_whatever_their_key_order_and_spacing_are_loaded_once() {
        db.land("{\"application_id\": 1, \"phones\": [{\"home\": \"1\"}]}");
        db.execute("call load_batch(100)");
        db.land("{ \"phones\" : [ { \"home\" : \"1\" } ] , \"application_id\" : 1 }",
                "{\"phones\":[{\"home\":\"1\"}],\"application_id\":1}");
        db.execute("call load_batch(1)");
        db.execute("call load_batch(100)");

        assertEquals(1, db.count("select count(*) from test_mv.clients"));
        assertEquals(1, db.count("select count(*) from test_mv.phones"));
        assertEquals(List.of(List.of(2L, 1L), List.of(3L, 1L)),
                db.query("select request_id, duplicate_of from test_mv.load_duplicates order by 1"));
    }

    @Test
    void numbers_equal_as_jsonb_but_written_differently_make_one_document() {
        db.land("{\"application_id\": 1, \"products\": {\"product_cnt\": {\"pen\": 2}, \"total_sum\": 10}}",
                "{\"application_id\": 1.0, \"products\": {\"product_cnt\": {\"pen\": 2.00}, \"total_sum\": 1e1}}");
        db.execute("call load_batch(100)");
        db.land("{\"application_id\": 1.00, \"products\": {\"product_cnt\": {\"pen\": 2.0}, \"total_sum\": 10.0}}");
        db.execute("call load_batch(100)");

        assertEquals(List.of(List.of(1L)), db.query("select client_id from test_mv.clients"));
        assertEquals(List.of(List.of(2L, 1L), List.of(3L, 1L)),
                db.query("select request_id, duplicate_of from test_mv.load_duplicates order by 1"));
    }

    /** The key finds candidates only: jsonb_hash_extended gives these two different documents the same key. */
    @Test
    void different_documents_sharing_a_key_are_both_loaded() {
        String tags = java.util.stream.IntStream.range(0, 41).mapToObj(i -> "\"t" + i + "\"")
                .collect(java.util.stream.Collectors.joining(", "));
        String swapped = tags.replaceFirst("\"t0\"", "\"T\"").replace("\"t32\"", "\"t0\"").replace("\"T\"", "\"t32\"");
        String first = "{\"application_id\": 5, \"tags\": [" + tags + "]}";
        String second = "{\"application_id\": 5, \"tags\": [" + swapped + "]}";
        assertEquals(List.of(List.of(true, false)), db.query("select jsonb_hash_extended('" + first + "', 0)"
                + " = jsonb_hash_extended('" + second + "', 0), '" + first + "'::jsonb = '" + second + "'::jsonb"),
                "the two documents share a key and differ");

        db.land(first, second);
        db.execute("call load_batch(100)");
        db.land(second);
        db.execute("call load_batch(100)");

        assertEquals(List.of(List.of(1L), List.of(2L)), db.query("select client_id from test_mv.clients order by 1"));
        assertEquals(List.of(List.of(3L, 2L)), db.query("select request_id, duplicate_of from test_mv.load_duplicates"));
    }

    @Test
    void duplicates_within_one_batch_are_loaded_once_the_first_one_wins() {
        db.land("{\"application_id\": 9}", "{\"application_id\": 9}", "{\"application_id\": 9}");
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(1L)), db.query("select client_id from test_mv.clients"));
        assertEquals(List.of(List.of(2L, 1L), List.of(3L, 1L)),
                db.query("select request_id, duplicate_of from test_mv.load_duplicates order by 1"));
    }

    /**
     * "First" is the loader's order, landing transaction then id: a transaction that started writing earlier but
     * landed its copy later holds the lower landing xid and the higher id, and its copy is the one loaded.
     */
    @Test
    void duplicates_within_one_batch_the_first_in_landing_transaction_order_wins_even_with_the_higher_id()
            throws Exception {
        try (Connection earlier = db.connect()) {
            earlier.setAutoCommit(false);
            earlier.createStatement().execute("select pg_current_xact_id()");
            db.land("{\"application_id\": 9}");
            earlier.createStatement().execute("insert into public.fake_json_request (stage) values ('{\"application_id\": 9}')");
            earlier.commit();
        }
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(2L)), db.query("select client_id from test_mv.clients"));
        assertEquals(List.of(List.of(1L, 2L)), db.query("select request_id, duplicate_of from test_mv.load_duplicates"));
    }

    @Test
    void a_document_equal_to_a_rejected_one_is_rejected_again_not_counted_as_a_duplicate() {
        db.land("{\"application_id\": \"x\"}", "{\"application_id\": \"x\"}");
        db.loadAll(1);
        assertEquals(2, db.count("select count(*) from test_mv.load_errors"));
        assertEquals(0, db.count("select count(*) from test_mv.load_duplicates"));
    }
}
