package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.MixedCorpus;
import io.incrementalloader.testing.ReferenceTables;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Lanes (V011): any number of callers give the outcome of one, while producers land documents, and each caller
 * takes a lane no other holds, without waiting for a held one.
 */
class LanesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void four_callers_and_two_producers_at_once_leave_the_tables_the_reference_gives() throws Exception {
        MixedCorpus corpus = MixedCorpus.of(21, 20_000);
        List<String> fast = corpus.fast();
        List<String> slow = corpus.slow();

        AtomicBoolean landing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Integer>> producers = List.of(
                    pool.submit(db.producer(fast, 100, 0)),
                    // A slow producer: its transactions stay open a while, and callers take the documents landed
                    // after its own meanwhile; the horizon holds its documents back until it commits.
                    pool.submit(db.producer(slow, 50, 40)));
            List<Future<Integer>> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                callers.add(pool.submit(caller(landing)));
            }
            for (Future<Integer> producer : producers) {
                producer.get(120, TimeUnit.SECONDS);
            }
            landing.set(false);
            int batches = 0;
            for (Future<Integer> caller : callers) {
                int taken = caller.get(120, TimeUnit.SECONDS);
                assertTrue(taken > 0, "each of the four callers loaded batches");
                batches += taken;
            }
            assertEquals(batches, db.count("select count(*) from test_mv.load_batches"));
        } finally {
            pool.shutdownNow();
        }

        assertEquals(0, db.count("select documents from test_mv.pending()"));
        ReferenceTables reference = ReferenceTables.of(db);
        assertEquals(20_300, reference.documents());
        assertTrue(reference.duplicates().size() > 2_000 && reference.rejectedFields().size() > 900,
                "the corpus mixes in both kinds");
        assertTrue(db.count("select count(*) from test_mv.load_duplicates d join fake_json_request r on r.id = d.request_id"
                + " where (r.stage -> 'application_id')::text like '%.0'") > 200, "the respelled twins are duplicates");
        reference.assertLoaded(db);
        assertEquals(List.of(List.of((long) reference.clients().size(), (long) reference.rejectedFields().size(),
                        (long) reference.duplicates().size())),
                db.query("select sum(loaded_documents)::bigint, sum(rejected_documents)::bigint,"
                        + " sum(duplicate_documents)::bigint from test_mv.load_metadata"), "the running totals");
        // The four callers ran at once: batches of different lanes overlapped in time.
        assertTrue(db.count("select count(*) from test_mv.load_batches a join test_mv.load_batches b"
                + " on a.lane <> b.lane and a.started_at < b.finished_at and b.started_at < a.finished_at") > 0);
    }

    @Test
    void a_caller_takes_a_lane_no_other_holds_without_waiting_and_one_caller_goes_round_all_lanes() throws Exception {
        db.landNumbered(3_200);
        try (Connection holder = db.connect(); Statement statement = holder.createStatement()) {
            holder.setAutoCommit(false);
            var taken = statement.executeQuery("select lane from test_mv.load_next_batch(100)");
            taken.next();
            long held = taken.getLong(1);
            // The holder's batch is not committed: another caller takes other lanes at once.
            long started = System.nanoTime();
            db.execute("select test_mv.load_next_batch(100) from generate_series(1, 15)");
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "no wait for the held lane");
            assertEquals(List.of(15L, 0L), List.of(db.count("select count(distinct lane) from test_mv.load_batches"),
                    db.count("select count(*) from test_mv.load_batches where lane = " + held)),
                    "the other 15 lanes, a batch each, in one round");
            holder.commit();
        }
        assertEquals(16, db.count("select count(distinct lane) from test_mv.load_batches"));
    }

    @Test
    void load_batch_fills_its_batch_from_more_than_one_lane_and_commits_them_together() {
        db.landNumbered(40);
        db.execute("call load_batch(100)");
        assertEquals(40, db.count("select count(*) from test_mv.clients"), "every pending document, in one call");
        assertTrue(db.count("select count(*) from test_mv.load_batches") > 1, "a batch a lane");
        assertEquals(0, db.count("select count(*) from test_mv.clients c join test_mv.load_batches b using (batch_id)"
                + " join fake_json_request r on r.id = c.client_id where test_mv.document_lane(r.document_key) <> b.lane"),
                "each batch took documents of its own lane");

        db.landNumbered(1_000, 20);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            dba.setAutoCommit(false);
            statement.execute("call load_batch(100)");
            assertEquals(40, db.count("select count(*) from test_mv.clients"), "uncommitted: nothing seen yet");
            dba.rollback();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        assertEquals(40, db.count("select count(*) from test_mv.clients"), "rolled back together");
        db.execute("call load_batch(5)");
        assertEquals(45, db.count("select count(*) from test_mv.clients"), "at most batch_size a call");
    }

    @Test
    void documents_equal_as_jsonb_share_a_lane_and_the_first_in_the_lanes_order_is_loaded() {
        String[] spellings = {"{\"application_id\": 777777, \"phones\": [{\"home\": \"1\"}]}",
                "{\"phones\": [{\"home\": \"1\"}], \"application_id\": 777777.0}",
                "{ \"application_id\" : 777777.00 , \"phones\" : [ { \"home\" : \"1\" } ] }"};
        db.landNumbered(500);
        db.land(spellings);
        db.landNumbered(500, 500);
        db.land(spellings[2]);
        assertEquals(1, db.count("select count(distinct test_mv.document_lane(document_key)) from fake_json_request"
                + " where stage = '" + spellings[0] + "'::jsonb"));
        db.loadAll(7);
        assertEquals(List.of(List.of(501L)), db.query("select client_id from test_mv.clients where application_id = 777777"));
        assertEquals(List.of(List.of(502L, 501L), List.of(503L, 501L), List.of(1004L, 501L)),
                db.query("select request_id, duplicate_of from test_mv.load_duplicates order by 1"));
    }


    /** Calls load_batch(100) and commits until the producers are done and nothing is pending; returns its batches. */
    private static Callable<Integer> caller(AtomicBoolean landing) {
        return () -> {
            int batches = 0;
            try (Connection connection = db.connect();
                 PreparedStatement call = connection.prepareStatement("select batch_id from test_mv.load_next_batch(100)");
                 PreparedStatement pending = connection.prepareStatement("select documents from test_mv.pending()")) {
                while (true) {
                    boolean producing = landing.get();
                    var row = call.executeQuery();
                    row.next();
                    if (row.getObject(1) != null) {
                        batches++;
                        continue;
                    }
                    var left = pending.executeQuery();
                    left.next();
                    if (!producing && left.getLong(1) == 0) {
                        return batches;
                    }
                    Thread.sleep(5);
                }
            }
        };
    }
}
