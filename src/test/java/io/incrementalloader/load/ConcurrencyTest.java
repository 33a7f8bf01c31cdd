package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Nothing skipped and nothing twice, whatever happens around the loader: slow producers, late documents, sessions
 * killed mid-batch, several callers at once. Interleavings are scripted with explicit connections, not sleeps.
 */
class ConcurrencyTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_slow_producers_document_committed_after_later_ones_were_landed_is_loaded() throws Exception {
        db.land("{\"application_id\": 0}");
        db.execute("call load_batch(100)");
        try (Connection slow = db.connect()) {
            slow.setAutoCommit(false);
            slow.createStatement().execute("insert into fake_json_request (stage) values ('{\"application_id\": 1}')");
            db.land("{\"application_id\": 2}", "{\"application_id\": 3}"); // later ids, committed first

            db.execute("call load_batch(100)");
            assertEquals(1, db.count("select count(*) from test_mv.clients"),
                    "rows landed after an open transaction wait for it: loading them would move the position past it");

            slow.commit();
        }
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(0), List.of(1), List.of(2), List.of(3)),
                db.query("select application_id from test_mv.clients order by application_id"));
        assertTrue(db.count("select id from fake_json_request where stage->>'application_id' = '1'")
                < db.count("select id from fake_json_request where stage->>'application_id' = '2'"),
                "the slow document took its id before the ones committed ahead of it");
    }

    @Test
    void a_writing_transaction_left_open_in_another_database_does_not_hold_documents_back() throws Exception {
        try (Connection elsewhere = db.settings().withDatabase("postgres").open()) {
            elsewhere.setAutoCommit(false);
            elsewhere.createStatement().execute("select pg_current_xact_id()"); // a writer: it holds an xid
            db.land("{\"application_id\": 1}", "{\"application_id\": 2}");

            db.execute("call load_batch(100)");

            assertEquals(2, db.count("select count(*) from test_mv.clients"),
                    "a transaction in another database cannot land a document here, so nothing waits for it");
            elsewhere.rollback();
        }
    }

    @Test
    void late_documents_are_loaded_after_the_watermark_passed_their_dates() {
        // A document's date is its first address's (the original design's stage); late ones carry older dates.
        db.land("{\"application_id\": 1, \"addresses\": [{\"date\": \"01-06-2024\"}]}",
                "{\"application_id\": 2, \"addresses\": [{\"date\": \"02-06-2024\"}]}");
        db.execute("call load_batch(100)");
        db.execute("insert into fake_json_request (stage, landed_at) values"
                + " ('{\"application_id\": 3, \"addresses\": [{\"date\": \"01-01-2001\"}]}', '2001-01-01'),"
                + " ('{\"application_id\": 4, \"addresses\": [{\"date\": \"31-12-1999\"}]}', '1999-12-31')");
        db.execute("call load_batch(100)");
        assertEquals(4, db.count("select count(*) from test_mv.clients"));
        assertEquals(java.sql.Date.valueOf("1999-12-31"), db.queryOne("select last_date from test_mv.load_metadata order by updated_at desc limit 1"));
    }

    @Test
    void a_session_killed_in_the_middle_of_a_batch_leaves_nothing_half_done() throws Exception {
        db.landNumbered(20);
        db.execute("create function test_mv.stall() returns trigger language plpgsql as"
                + " $$ begin perform pg_sleep(30); return null; end $$;"
                + " create trigger stall_after_clients after insert on test_mv.clients"
                + " for each statement execute function test_mv.stall()");
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<?> batch = executor.submit(() -> {
                db.execute("call load_batch(100)");
                return null;
            });
            long pid = waitForSleepingBatch();
            db.execute("select pg_terminate_backend(" + pid + ")");
            assertTrue(exceptionOf(batch) != null, "the killed call fails");
        } finally {
            executor.shutdownNow();
            db.execute("drop trigger stall_after_clients on test_mv.clients; drop function test_mv.stall()");
        }
        assertEquals(0, db.count("select count(*) from test_mv.clients")
                + db.count("select count(*) from test_mv.phones") + db.count("select count(*) from test_mv.load_batches"));
        assertEquals(0L, db.queryOne("select max(last_request_id) from test_mv.load_metadata"));

        db.execute("call load_batch(100)");
        assertEquals(20, db.count("select count(*) from test_mv.clients"));
        assertEquals(20, db.count("select count(*) from test_mv.phones"));
    }

    @Test
    void four_sessions_looping_load_batch_at_once_load_every_document_once_while_producers_land_more() throws Exception {
        db.landNumbered(2_000);
        ExecutorService executor = Executors.newFixedThreadPool(5);
        try {
            Future<?> producer = executor.submit(() -> {
                for (int t = 0; t < 50; t++) {
                    String[] documents = new String[20];
                    for (int i = 0; i < 20; i++) {
                        documents[i] = "{\"application_id\": " + (10_000 + t * 20 + i) + "}";
                    }
                    db.land(documents);
                }
                return null;
            });
            List<Future<Integer>> loaders = new ArrayList<>();
            for (int s = 0; s < 4; s++) {
                loaders.add(executor.submit(loopUntilNothingPending(producer, "concurrency-loader-" + s)));
            }
            for (Future<Integer> loader : loaders) {
                loader.get(120, TimeUnit.SECONDS);
            }
            producer.get();
        } finally {
            executor.shutdownNow();
        }
        // No clean-up load: the four sessions alone took everything, each document once, and more than one of them
        // took a share.
        assertEquals(3_000, db.count("select count(*) from test_mv.clients"));
        assertEquals(3_000, db.count("select count(distinct application_id) from test_mv.clients"));
        assertEquals(3_000, db.count("select sum(taken) from test_mv.load_batches where caller like 'concurrency-loader-%'"),
                "the four sessions took every document, and none twice");
        assertTrue(db.count("select count(distinct caller) from test_mv.load_batches where caller like 'concurrency-loader-%'")
                > 1, "the sessions shared the work");
    }

    /** A session named {@code name} CALLing load_batch(50) until a call takes nothing after the producer has finished. */
    private static Callable<Integer> loopUntilNothingPending(Future<?> producer, String name) {
        return () -> {
            int calls = 0;
            try (Connection connection = db.connect();
                 PreparedStatement call = connection.prepareStatement("call load_batch(50)");
                 PreparedStatement position = connection.prepareStatement("select max(last_batch_id) from test_mv.load_metadata")) {
                connection.createStatement().execute("set application_name = '" + name + "'");
                while (true) {
                    boolean producerDone = producer.isDone();
                    Object before = single(position);
                    call.execute();
                    calls++;
                    if (producerDone && java.util.Objects.equals(before, single(position))) {
                        return calls;
                    }
                }
            }
        };
    }

    private static Object single(PreparedStatement query) throws Exception {
        try (ResultSet row = query.executeQuery()) {
            row.next();
            return row.getObject(1);
        }
    }

    private static long waitForSleepingBatch() throws Exception {
        try (Connection connection = db.connect(); Statement statement = connection.createStatement()) {
            for (int attempt = 0; attempt < 200; attempt++) {
                try (ResultSet row = statement.executeQuery("select pid from pg_stat_activity"
                        + " where query like 'call load_batch%' and wait_event = 'PgSleep'")) {
                    if (row.next()) {
                        return row.getLong(1);
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the batch never reached its stall");
    }

    private static Throwable exceptionOf(Future<?> future) throws InterruptedException {
        try {
            future.get(30, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the killed call never returned");
        }
    }
}
