package io.incrementalloader.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A twin is decided by jsonb equality, also once the original's landing row is pruned: a document that merely
 * shares the 64-bit key of a pruned one (jsonb_hash_extended collides by construction) loads, and a true twin,
 * however its numbers and keys are spelled, is still a duplicate.
 */
class PrunedTwinsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /**
     * A document with 17 phones whose first and last are {@code mobile}: jsonb_hash_extended rotates its hash a bit
     * a token and repeats every 32 tokens, and a phone is two tokens, so the first and last phone's values cancel
     * out of the key whatever they are.
     */
    private static String colliding(int applicationId, String mobile) {
        String phones = IntStream.range(0, 17)
                .mapToObj(i -> "{\"mobile\": \"" + (i == 0 || i == 16 ? mobile : "+7900" + i) + "\"}")
                .collect(Collectors.joining(", "));
        return "{\"application_id\": " + applicationId + ", \"client_id\": 7, \"phones\": [" + phones + "],"
                + " \"addresses\": [], \"products\": {\"product_cnt\": {\"tea\": 2}, \"product_cost\": {\"tea\": 150},"
                + " \"total_sum\": 3}}";
    }

    /** Lands the document 40 days ago, so that a prune of what is older than 30 days takes it once loaded. */
    private static void landOld(String document) {
        db.execute("insert into fake_json_request (stage, landed_at) values ('" + document.replace("'", "''")
                + "', now() - interval '40 days')");
    }

    private static void loadAndPrune() {
        db.execute("call load_pending(100)");
        assertEquals(0, db.count("select count(*) from test_mv.load_errors"), "the documents are loadable");
        db.execute("call prune_landing(interval '30 days')");
        assertEquals(0, db.count("select count(*) from fake_json_request"), "every landing row is pruned");
    }

    @Test
    void a_document_that_only_shares_the_key_of_a_pruned_one_loads() {
        String original = colliding(1, "+1111");
        String stranger = colliding(1, "+2222");
        assertEquals(db.queryOne("select jsonb_hash_extended('" + original + "'::jsonb, 0)"),
                db.queryOne("select jsonb_hash_extended('" + stranger + "'::jsonb, 0)"), "the two documents share a key");
        landOld(original);
        loadAndPrune();
        db.land(stranger);
        db.execute("call load_pending(100)");
        assertEquals(List.of(List.of(1L, 0L)), db.query("select (select count(distinct client_id) from test_mv.phones"
                + " where number = '+2222'), (select count(*) from test_mv.load_duplicates)"),
                "the stranger is loaded, not recorded as a duplicate");
        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertEquals(0, verify.exitCode(), verify::toString);
    }

    @Test
    void a_twin_of_a_pruned_document_is_its_duplicate_however_its_numbers_and_keys_are_spelled() {
        String original = colliding(2, "+3333");
        String respelled = original.replace("\"tea\": 150}", "\"tea\": 1.50e2}").replace("\"total_sum\": 3", "\"total_sum\": 3.000")
                .replace("\"client_id\": 7, ", "").replace("{\"application_id\"", "{\"client_id\": 7.0, \"application_id\"");
        assertNotEquals(original, respelled);
        landOld(original);
        loadAndPrune();
        db.land(respelled);
        db.execute("call load_pending(100)");
        assertEquals(List.of(List.of(1L, 1L)), db.query("select (select count(*) from test_mv.clients),"
                + " (select count(*) from test_mv.load_duplicates d join test_mv.clients c on c.client_id = d.duplicate_of)"));
    }

    @Test
    void a_document_sharing_the_key_of_one_pruned_before_digests_were_kept_loads_for_nothing_proves_them_equal() {
        landOld(colliding(3, "+4444"));
        loadAndPrune();
        db.execute("delete from test_mv.pruned_documents"); // as on a database upgraded after pruning
        db.land(colliding(3, "+4444"));
        db.execute("call load_pending(100)");
        assertEquals(2, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_hand_delete_and_a_truncate_of_the_landing_table_keep_the_loaded_documents_digests() {
        db.land(colliding(4, "+5555"), colliding(5, "+6666"), "{\"application_id\": \"rejected\"}");
        db.execute("call load_pending(100)");
        db.execute("delete from fake_json_request where stage ->> 'application_id' = '4'");
        db.execute("truncate fake_json_request");
        assertEquals(2, db.count("select count(*) from test_mv.pruned_documents"), "the two loaded documents, not the rejected one");
        db.land(colliding(4, "+5555"), colliding(5, "+7777"));
        db.execute("call load_pending(100)");
        assertEquals(List.of(List.of(3L, 1L)), db.query("select (select count(*) from test_mv.clients),"
                + " (select count(*) from test_mv.load_duplicates)"));
    }

    @Test
    void the_digest_is_equal_exactly_for_documents_equal_as_jsonb() {
        List<List<String>> equal = List.of(
                List.of("{\"a\": 1, \"b\": [1.0, 2.50, -0.0]}", "{\"b\": [1e0, 2.5, 0], \"a\": 1.000}"),
                List.of("[100, 10.10, 0.000001]", "[1e2, 1.01e1, 1e-6]"),
                List.of("{\"s\": \"x\\\"1.0\\\\\", \"n\": 3}", "{\"n\": 3.0, \"s\": \"x\\\"1.0\\\\\"}"));
        List<List<String>> different = List.of(
                List.of("{\"s\": \"1.0\"}", "{\"s\": \"1\"}"),
                List.of("{\"1.0\": 1}", "{\"1\": 1}"),
                List.of("[1.01]", "[1.1]"),
                List.of("[10]", "[1]"),
                List.of("{\"s\": \"a.\"}", "{\"s\": \"a\"}"),
                List.of("[\"x\", 1.0]", "[\"x\", \"1\"]"));
        for (List<String> pair : equal) {
            assertEquals(List.of(List.of(true, true)), digestsAndJsonbEqual(pair), pair::toString);
        }
        for (List<String> pair : different) {
            assertEquals(List.of(List.of(false, false)), digestsAndJsonbEqual(pair), pair::toString);
        }
    }

    private static List<List<Object>> digestsAndJsonbEqual(List<String> pair) {
        String a = "'" + pair.get(0).replace("'", "''") + "'::jsonb";
        String b = "'" + pair.get(1).replace("'", "''") + "'::jsonb";
        return db.query("select test_mv.document_digest(" + a + ") = test_mv.document_digest(" + b + "), " + a + " = " + b);
    }

    @Test
    void equal_digests_agree_with_jsonb_equality_over_many_generated_numbers() {
        // Numbers of every shape, each written three ways: the digests of the spellings agree, and no two different
        // numbers share one.
        assertEquals(List.of(List.of(0L, 0L)), db.query("with n as (select distinct"
                + "  (random() * 10 ^ (random() * 12 - 6))::numeric(30, 10) as v from generate_series(1, 3000)),"
                + " spelled as (select v, test_mv.document_digest(jsonb_build_array(to_jsonb(v))) as a,"
                + "  test_mv.document_digest(jsonb_build_array(to_jsonb(trim_scale(v)))) as b,"
                + "  test_mv.document_digest(jsonb_build_array((trim_scale(v)::text || 'e0')::jsonb)) as c from n)"
                + " select (select count(*) from spelled where a <> b or a <> c),"
                + "  (select count(*) from spelled x join spelled y on x.a = y.c where x.v <> y.v)"));
        assertTrue(db.count("select count(*) from (select test_mv.document_digest(to_jsonb(g::numeric / 8)) from generate_series(1, 5000) g"
                + " group by 1) d") == 5000, "5,000 different numbers, 5,000 digests");
    }
}
