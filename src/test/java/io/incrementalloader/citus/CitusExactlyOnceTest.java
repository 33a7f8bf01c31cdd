package io.incrementalloader.citus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.MixedCorpus;
import io.incrementalloader.testing.ReferenceTables;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly once on a Citus cluster: two producers (one slow) and four callers at once (two loops of the service's
 * batches, the load command run after run, each run checked, and a DBA's CALL load_batch) on 20,000 mixed documents
 * (twins across batches, malformed ones), a caller killed in the middle of its batch: the tables equal the reference
 * decomposition, and verify and every check after a run say sound.
 */
@Tag("citus")
class CitusExactlyOnceTest {
    @RegisterExtension
    static final TestDatabase db = TestDatabase.onCitus();

    @Test
    void two_producers_and_four_callers_at_once_with_one_killed_leave_the_tables_the_reference_gives() throws Exception {
        MixedCorpus corpus = MixedCorpus.of(22, 19_700);
        List<String> fast = corpus.fast();
        List<String> slow = corpus.slow();

        AtomicBoolean landing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(7);
        try {
            List<Future<Integer>> producers = List.of(pool.submit(db.producer(fast, 200, 0)),
                    // Its transactions stay open a while: the horizon of each worker holds its documents back.
                    pool.submit(db.producer(slow, 50, 60)));
            List<Future<Long>> callers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                callers.add(pool.submit(serviceCaller(landing)));
            }
            callers.add(pool.submit(checkedRuns(landing)));
            callers.add(pool.submit(dbaCaller(landing)));
            Future<Integer> killed = pool.submit(killedCaller());
            assertTrue(killed.get(120, TimeUnit.SECONDS) > 0, "the killed caller's batch had taken documents");
            for (Future<Integer> producer : producers) {
                producer.get(300, TimeUnit.SECONDS);
            }
            landing.set(false);
            for (Future<Long> caller : callers) {
                assertTrue(caller.get(300, TimeUnit.SECONDS) > 0, "each of the four callers loaded documents");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, db.count("select documents from test_mv.pending()"),
                () -> "nothing pending: " + db.query("select * from test_mv.lanes() where documents > 0"));

        ReferenceTables reference = ReferenceTables.of(db);
        assertEquals(20_000, reference.documents());
        assertTrue(reference.duplicates().size() > 1_500 && reference.rejectedFields().size() > 900,
                "the corpus mixes in both kinds");
        reference.assertLoaded(db);
        assertEquals(List.of(List.of((long) reference.clients().size(), (long) reference.rejectedFields().size(),
                (long) reference.duplicates().size())), db.query(TestDatabase.TOTALS), "the running totals");
        Cli.Result verify = Cli.run("verify", "--url", db.settings().url());
        assertTrue(verify.out().contains("Sound"), verify.toString());
        assertTrue(db.count("select count(*) from test_mv.run_checks") > 0);
        assertEquals(0, db.count("select count(*) from test_mv.run_checks where verdict <> 'sound'"),
                "the check after every run of load");
        assertTrue(db.count("with b as materialized (select lane, started_at, finished_at from test_mv.load_batches)"
                + " select count(*) from b x join b y on x.lane <> y.lane and x.started_at < y.finished_at"
                + " and y.started_at < x.finished_at") > 0,
                "batches of different lanes ran at once");
    }


    /** The service's loop (load, serve): lanes called by their number, each batch delegated to its worker. */
    private static Callable<Long> serviceCaller(AtomicBoolean landing) {
        return () -> {
            long taken = 0;
            try (Connection connection = db.connect()) {
                while (true) {
                    boolean producing = landing.get();
                    BatchFigures drained = new BatchLoader(100).drain(connection, () -> false, total -> { });
                    taken += drained.taken();
                    if (!producing && drained.taken() == 0 && nothingPending()) {
                        return taken;
                    }
                    Thread.sleep(20);
                }
            }
        };
    }

    /** The load command, run after run, each run checked as it ends; returns the documents its runs took. */
    private static Callable<Long> checkedRuns(AtomicBoolean landing) {
        return () -> {
            long taken = 0;
            while (true) {
                boolean producing = landing.get();
                Cli.Result load = Cli.run("load", "--url", db.settings().url());
                assertEquals(0, load.exitCode(), load.toString());
                java.util.regex.Matcher loaded = java.util.regex.Pattern.compile("^Loaded ([0-9,]+) documents")
                        .matcher(load.out());
                assertTrue(loaded.find(), load.toString());
                long run = Long.parseLong(loaded.group(1).replace(",", ""));
                taken += run;
                if (!producing && run == 0 && nothingPending()) {
                    return taken;
                }
                Thread.sleep(100);
            }
        };
    }

    /** A DBA's CALL load_batch(100) on the coordinator, committed each time. */
    private static Callable<Long> dbaCaller(AtomicBoolean landing) {
        return () -> {
            try (Connection connection = db.connect(); Statement call = connection.createStatement()) {
                call.execute("set application_name = 'dba'");
                while (landing.get()) {
                    call.execute("call load_batch(100)");
                    Thread.sleep(50);
                }
                return db.count("select coalesce(sum(taken), 0) from test_mv.load_batches where caller like 'dba %'");
            }
        };
    }

    /**
     * A caller whose session is terminated while its batch is in progress: the batch took documents and was about to
     * commit; its worker transaction rolls back, and its documents stay pending for the others.
     */
    private static Callable<Integer> killedCaller() {
        return () -> {
            while (db.count("select count(*) from fake_json_request") < 2_000) {
                Thread.sleep(50);
            }
            try (Connection victim = db.connect(); Statement statement = victim.createStatement()) {
                victim.setAutoCommit(false);
                int taken = 0;
                // Round the lanes until one has documents that no other caller holds at the moment.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                for (int lane = 0; taken == 0 && System.nanoTime() < deadline; lane = (lane + 1) % 16) {
                    try (ResultSet batch = statement.executeQuery("select coalesce(taken, 0) from test_mv.load_lane("
                            + lane + ", 100, 'victim', " + db.count("select nextval('test_mv.load_batch_id_seq')") + ")")) {
                        batch.next();
                        taken = batch.getInt(1);
                    }
                }
                long pid = pid(statement);
                db.execute("select pg_terminate_backend(" + pid + ")");
                assertThrows(SQLException.class, victim::commit, "its session is gone");
                return taken;
            }
        };
    }

    private static long pid(Statement statement) throws SQLException {
        try (ResultSet row = statement.executeQuery("select pg_backend_pid()")) {
            row.next();
            return row.getLong(1);
        }
    }

    /**
     * Whether every landed document has its outcome: a caller that took nothing stops only then, since it takes
     * nothing too while the lanes left are held by the other callers.
     */
    private static boolean nothingPending() {
        return db.count("select documents from test_mv.pending()") == 0;
    }
}
