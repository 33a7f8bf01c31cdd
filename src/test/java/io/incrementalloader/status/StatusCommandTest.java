package io.incrementalloader.status;

import static io.incrementalloader.generated.public_.Tables.FAKE_JSON_REQUEST;
import static io.incrementalloader.generated.test_mv.Tables.CLIENTS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_DUPLICATES;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_ERRORS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** status tells where the loader stands, for people and for scripts. */
class StatusCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    JsonNode statusJson() throws Exception {
        Cli.Result result = Cli.run("status", "--json", "--url", db.settings().url());
        assertEquals(0, result.exitCode(), result::toString);
        return new ObjectMapper().readTree(result.out());
    }

    @Test
    void it_counts_loaded_rejected_duplicate_and_pending_documents_and_shows_the_last_batches() throws Exception {
        db.land("{\"application_id\": 1}", "{\"application_id\": 1}", "{\"application_id\": []}");
        db.execute("call load_batch(100)");
        db.execute("insert into fake_json_request (stage, landed_at) values ('{\"application_id\": 5}', now() - interval '1 hour')");

        JsonNode status = statusJson();
        assertEquals(4, status.at("/totals/landed").asLong());
        assertEquals(1, status.at("/totals/loaded").asLong());
        assertEquals(1, status.at("/totals/rejected").asLong());
        assertEquals(1, status.at("/totals/duplicates").asLong());
        assertEquals(1, status.at("/pending/documents").asLong());
        // The latest position: where the last batch ended, in its lane.
        assertEquals(db.count("select last_request_id from test_mv.load_batches order by batch_id desc limit 1"),
                status.at("/position/lastRequestId").asLong());
        assertTrue(status.at("/pending/lag").asText().startsWith("PT59M") || status.at("/pending/lag").asText().startsWith("PT1H"),
                status.at("/pending/lag").asText());
        long lagSeconds = status.at("/pending/lagSeconds").asLong();
        assertTrue(lagSeconds >= 3590 && lagSeconds < 3700, status.toString());
        int taken = 0;
        for (JsonNode batch : status.at("/lastBatches")) {
            taken += batch.at("/taken").asInt();
            assertEquals("load", batch.at("/kind").asText());
        }
        assertEquals(3, taken, "a batch a lane, three documents together");
        assertEquals(16, status.at("/lanes").size());
        assertEquals(1, status.at("/lanes/" + db.count("select test_mv.document_lane(document_key) from fake_json_request"
                + " where id = 4") + "/pending").asLong(), "the pending document, in its lane");
        assertEquals("application_id: not a JSON integer in the 32-bit range", status.at("/lastErrors/0/reason").asText());

        Cli.Result text = Cli.run("status", "--url", db.settings().url());
        assertTrue(text.out().contains("Pending    1 documents, oldest landed 59 min ago")
                || text.out().contains("Pending    1 documents, oldest landed 60 min ago"), text::toString);
        assertTrue(text.out().contains("Landed     4: loaded 1, rejected 1, duplicates 1"), text::toString);
    }

    @Test
    void it_names_the_open_transaction_that_holds_pending_documents_back() throws Exception {
        try (Connection open = db.connect()) {
            open.setAutoCommit(false);
            open.createStatement().execute("set application_name = 'slow-producer'");
            open.createStatement().execute("insert into fake_json_request (stage) values ('{\"application_id\": 1}')");
            db.land("{\"application_id\": 2}");

            JsonNode status = statusJson();
            assertEquals(1, status.at("/pending/documents").asLong());
            assertEquals(1, status.at("/pending/waiting").asLong());
            String database = db.settings().url().replaceAll(".*/([^/?]+)(\\?.*)?$", "$1");
            assertTrue(status.at("/pending/heldBackBy").asText().matches("pid \\d+ \\(slow-producer, idle in transaction,"
                    + " transaction open since .*\\) in database " + database),
                    status.toString());
            open.rollback();
        }
    }

    @Test
    void it_shows_a_loader_blocked_on_the_position_and_the_session_that_holds_it() throws Exception {
        db.land("{\"application_id\": []}");
        db.execute("call load_batch(100)");
        db.land("{\"application_id\": 1}");
        try (Connection dba = db.connect(); Connection loader = db.connect()) {
            dba.createStatement().execute("set application_name = 'dba-in-psql'");
            dba.setAutoCommit(false);
            dba.createStatement().execute("call load_batch(100)"); // and the transaction left open, holding a lane
            loader.createStatement().execute("set application_name = 'night-loader'");
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Thread waiting = new Thread(() -> {
                try {
                    // A load would take another lane at once; a reprocessing takes every lane, and waits.
                    loader.createStatement().execute("call reprocess_rejected()");
                } catch (java.sql.SQLException e) {
                    failed.set(e);
                }
            });
            waiting.start();
            for (int i = 0; i < 50 && statusJson().at("/blocked").isEmpty(); i++) {
                Thread.sleep(100);
            }
            JsonNode blocked = statusJson().at("/blocked/0");
            assertEquals("night-loader", blocked.at("/application").asText(), blocked.toString());
            assertTrue(blocked.at("/waitingFor").asText().contains("(dba-in-psql, idle in transaction"), blocked.toString());
            Cli.Result text = Cli.run("status", "--url", db.settings().url());
            assertTrue(text.out().contains("Blocked    pid "), text::toString);
            dba.rollback();
            waiting.join(10_000);
            // The reprocessing waited for the lane, then ran to its end once the holder let go.
            assertTrue(!waiting.isAlive(), "the reprocessing still waits after the holder ended");
            assertEquals(null, failed.get(), () -> "the reprocessing failed: " + failed.get());
        }
        assertTrue(statusJson().at("/blocked").isEmpty(), "not blocked once the holder ended");
    }

    @Test
    void a_document_or_a_session_cannot_forge_a_line_or_send_an_escape_sequence_through_status() throws Exception {
        db.land("{\"application_id\": 1, \"products\": {\"product_cnt\": {\"a\\nLanded     0\\u001b[2J\": \"x\"}}}");
        try (Connection dba = db.connect()) {
            dba.createStatement().execute("set application_name = E'evil\\nPosition   forged'");
            dba.createStatement().execute("call load_batch(100)");
        }
        String text = Cli.run("status", "--url", db.settings().url()).out();
        assertTrue(text.contains("products.product_cnt.a\\u000aLanded     0\\u001b[2J: not a JSON integer"), text);
        assertEquals(0, text.lines().filter(line -> line.startsWith("Position   forged")).count(), text);
        assertEquals(-1, text.indexOf('\u001b'), text);
        assertEquals(1, text.lines().filter(line -> line.startsWith("Landed")).count(), text);
    }

    /**
     * The totals are kept, not counted (V009), and every figure comes from one snapshot: while a load commits batch
     * after batch, they always equal what the tables hold in that snapshot, and landed = loaded + rejected +
     * duplicates + pending.
     */
    @Test
    void its_kept_totals_always_equal_the_tables_while_a_load_commits_batch_after_batch() throws Exception {
        db.landNumbered(2500);
        db.land("{\"application_id\": \"not a number\"}", "{\"application_id\": 1}", "{\"application_id\": 1}");
        db.landNumbered(2500, 500);
        Thread loader = new Thread(() -> db.loadAll(5));
        loader.start();
        int reads = 0;
        try (Connection connection = db.connect()) {
            while (loader.isAlive() || reads == 0) {
                var read = io.incrementalloader.db.Snapshot.read(connection, sql -> new Object() {
                    final LoaderStatus status = LoaderStatus.read(sql);
                    final long landed = sql.fetchCount(FAKE_JSON_REQUEST);
                    final long clients = sql.fetchCount(CLIENTS);
                    final long errors = sql.fetchCount(LOAD_ERRORS);
                    final long duplicates = sql.fetchCount(LOAD_DUPLICATES);
                });
                var totals = read.status.totals();
                String where = "read " + reads + ": " + read.status;
                assertEquals(read.landed, totals.landed(), where);
                assertEquals(read.clients, totals.loaded(), where);
                assertEquals(read.errors, totals.rejected(), where);
                assertEquals(read.duplicates, totals.duplicates(), where);
                assertEquals(totals.landed(), totals.loaded() + totals.rejected() + totals.duplicates()
                        + read.status.pending().documents(), where);
                reads++;
            }
        } finally {
            loader.join();
        }
        assertTrue(reads > 5, "status read while the load ran: " + reads);
        LoaderStatus.Totals totals;
        try (Connection connection = db.connect()) {
            totals = LoaderStatus.read(connection).totals();
        }
        assertEquals(List.of(3003L, 3001L, 1L, 1L),
                List.of(totals.landed(), totals.loaded(), totals.rejected(), totals.duplicates()));
    }

    /**
     * A backlog is counted up to 10,000 documents and estimated beyond, so that status costs the same at any size;
     * an estimate says so, in the JSON and in the text.
     */
    @Test
    void a_backlog_past_1000_documents_a_lane_is_estimated_and_says_so() throws Exception {
        db.execute("insert into fake_json_request (stage) select jsonb_build_object('application_id', g)"
                + " from generate_series(1, 17000) g"); // some 1,060 a lane
        JsonNode estimated = statusJson();
        assertEquals(false, estimated.at("/pending/exact").asBoolean(true), estimated::toString);
        long about = estimated.at("/pending/documents").asLong();
        assertTrue(Math.abs(about - 17_000) < 17_000 * 0.03, "within 3%: " + about);
        assertEquals(about, estimated.at("/totals/landed").asLong());
        String text = Cli.run("status", "--url", db.settings().url()).out();
        assertTrue(text.contains(String.format("Pending    about %,d documents", about)), text);
        assertTrue(text.contains(String.format("Landed     about %,d: loaded 0", about)), text);
        assertTrue(text.contains("Lanes      16 of 16 with documents pending"), text);

        db.execute("call load_pending(1000)");
        db.landNumbered(5);
        JsonNode counted = statusJson();
        assertEquals(true, counted.at("/pending/exact").asBoolean(false), counted::toString);
        assertEquals(5, counted.at("/pending/documents").asLong());
        assertEquals(17_005, counted.at("/totals/landed").asLong());
        assertEquals(17_000, counted.at("/totals/loaded").asLong());
    }

    /** The report reaches standard output when the command runs as users run it: its own JVM, which exits after. */
    @Test
    void the_report_reaches_standard_output_from_a_process_of_its_own() throws Exception {
        db.land("{\"application_id\": 1}");
        Process status = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), io.incrementalloader.Main.class.getName(), "status",
                "--url", db.settings().url()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(status.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, status.waitFor());
        assertTrue(out.startsWith("Position   document 0"), out);
        assertTrue(out.contains("Pending    1 documents"), out);
    }
}
