package io.incrementalloader.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** bench runs every scenario and prints the table; the figures themselves are for people, not assertions. */
class BenchCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void a_small_run_prints_a_row_for_every_scenario_with_its_share_of_the_floor() {
        String scratch = "bench_test_" + ProcessHandle.current().pid();
        try {
            Cli.Result result = Cli.run("bench", "--url", db.settings().url(), "--database", scratch,
                    "--documents", "300", "--runs", "1", "--batch-sizes", "100,1000");

            assertEquals(0, result.exitCode(), result::toString);
            String times = " +[0-9.]+ +[0-9.]+ +[0-9,]+ +[0-9,]+";
            for (String scenario : new String[] {"floor", "load_batch\\(100\\)", "load_batch\\(1000\\)",
                    "load_batch\\(100\\) async", "client-side peer", "naive reference"}) {
                assertTrue(Pattern.compile("(?m)^" + scenario + times + " +[0-9.]+ +[0-9.]+-[0-9.]+$")
                        .matcher(result.out()).find(), scenario + " row missing\n" + result);
            }
            // Each round's floor over itself.
            assertTrue(Pattern.compile("(?m)^floor" + times + " +1\\.00 +1\\.00-1\\.00$")
                    .matcher(result.out()).find(), result::toString);
            assertTrue(Pattern.compile("(?m)^import +[0-9.]+ +[0-9.]+ +[0-9,]+ +- +- +-$").matcher(result.out()).find(),
                    result::toString);
        } finally {
            db.execute("drop database if exists " + scratch + " with (force)");
        }
    }

    @Test
    void loader_only_measures_the_floor_and_load_batch_and_nothing_else() {
        String scratch = "bench_test_" + ProcessHandle.current().pid();
        try {
            Cli.Result result = Cli.run("bench", "--url", db.settings().url(), "--database", scratch,
                    "--documents", "200", "--runs", "1", "--batch-sizes", "100", "--loader-only");

            assertEquals(0, result.exitCode(), result::toString);
            assertTrue(Pattern.compile("(?m)^load_batch\\(100\\) async +[0-9.]+").matcher(result.out()).find(),
                    result::toString);
            assertFalse(result.out().contains("client-side peer") || result.out().contains("import "), result::toString);
        } finally {
            db.execute("drop database if exists " + scratch + " with (force)");
        }
    }

    @Test
    void workers_add_a_row_for_each_number_of_concurrent_callers_with_their_throughput_and_waits() throws Exception {
        String scratch = "bench_test_" + ProcessHandle.current().pid();
        try {
            Cli.Result result = Cli.run("bench", "--url", db.settings().url(), "--database", scratch,
                    "--documents", "400", "--runs", "1", "--batch-sizes", "50", "--loader-only", "--workers", "1,2");

            assertEquals(0, result.exitCode(), result::toString);
            assertTrue(Pattern.compile("(?m)^load_batch\\(50\\) x 2 +[0-9.]+ +[0-9.]+ +[0-9,]+").matcher(result.out())
                    .find(), result::toString);
            assertTrue(Pattern.compile("(?m)^2 callers: [0-9.]+ x one caller's throughput \\([0-9.]+-[0-9.]+\\);"
                    + " their backends, sampled every 10 ms: ").matcher(result.out()).find(), result::toString);
            // The last scenario ran last: two callers took every document once between them.
            try (var c = db.settings().withDatabase(scratch).open(); var s = c.createStatement();
                 var r = s.executeQuery("select (select sum(taken) from test_mv.load_batches),"
                         + " (select count(*) from test_mv.clients)")) {
                r.next();
                assertEquals(400, r.getLong(1), "each document taken once");
                assertEquals(400, r.getLong(2), "and loaded once");
            }
        } finally {
            db.execute("drop database if exists " + scratch + " with (force)");
        }
    }

    @Test
    void it_never_drops_a_database_that_it_did_not_create() {
        String someone = "bench_not_ours_" + ProcessHandle.current().pid();
        db.execute("create database " + someone);
        try {
            Cli.Result result = Cli.run("bench", "--url", db.settings().url(), "--database", someone,
                    "--documents", "10", "--runs", "1", "--batch-sizes", "100", "--loader-only");
            assertEquals(2, result.exitCode(), result::toString);
            assertTrue(result.err().contains("bench did not create it"), result::toString);
            assertEquals(1, db.count("select count(*) from pg_database where datname = '" + someone + "'"),
                    "still there");
        } finally {
            db.execute("drop database if exists " + someone + " with (force)");
        }
    }
}
