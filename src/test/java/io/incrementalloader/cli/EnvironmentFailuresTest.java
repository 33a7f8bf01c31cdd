package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A failure of where the loader runs is told in one short line (what, where, what to do), with an exit code of its
 * own, without the SQL that was running; the run is recorded as failed, and nothing is lost.
 */
class EnvironmentFailuresTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @AfterEach
    void removeTheFault() {
        db.execute("drop trigger if exists tr_fault on test_mv.clients; drop function if exists public.fault()");
    }

    /** A trigger on clients that fails as the server does when its disk is full, or sleeps. */
    private static void fault(String body) {
        db.execute("create function public.fault() returns trigger language plpgsql as $$ begin " + body
                + "; return null; end $$; create trigger tr_fault after insert on test_mv.clients"
                + " for each statement execute function public.fault()");
    }

    private static void assertOneLineWithoutSql(Cli.Result result) {
        assertEquals(1, result.err().strip().lines().filter(l -> l.startsWith("error:")).count(), result::toString);
        assertFalse(result.err().contains("insert into") || result.err().contains("select ") || result.err().contains("\tat "),
                result::toString);
    }

    @Test
    void a_full_disk_fails_the_run_in_one_line_with_its_exit_code_and_loses_nothing() {
        db.landNumbered(30);
        fault("raise exception 'could not extend file \"base/1/2\": No space left on device' using errcode = 'disk_full'");
        Cli.Result load = Cli.run("load", "--url", db.settings().url());
        assertEquals(EnvironmentFailure.EXIT_CODE, load.exitCode(), load::toString);
        assertTrue(load.err().contains("error: the database server's disk is full in database ")
                && load.err().contains("SQLSTATE 53100") && load.err().contains("nothing was lost"), load::toString);
        assertOneLineWithoutSql(load);
        assertEquals(List.of(List.of("53100")), db.query("select sqlstate from test_mv.failed_runs"));
        assertEquals(0, db.count("select count(*) from test_mv.clients"));
        assertEquals(0, db.count("select count(*) from test_mv.load_errors"), "no document was rejected for the disk");
        removeTheFault();
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());
        assertEquals(30, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_lost_connection_and_a_timeout_are_told_apart() throws Exception {
        db.landNumbered(5);
        fault("perform pg_sleep(30)");
        CompletableFuture<Cli.Result> load = CompletableFuture.supplyAsync(
                () -> Cli.run("load", "--url", db.settings().url()));
        io.incrementalloader.testing.Waiting.until(() -> db.count("select count(*) from pg_stat_activity"
                + " where wait_event = 'PgSleep' and query like '%load_next_batch%'") == 1, 20);
        db.execute("select pg_terminate_backend(pid) from pg_stat_activity where wait_event = 'PgSleep'"
                + " and query like '%load_next_batch%'");
        Cli.Result lost = load.get(30, TimeUnit.SECONDS);
        assertEquals(EnvironmentFailure.EXIT_CODE, lost.exitCode(), lost::toString);
        assertTrue(lost.err().contains("shutting down") || lost.err().contains("connection to the database was lost"),
                lost::toString);
        assertOneLineWithoutSql(lost);

        db.execute("alter role " + db.settings().user() + " in database " + database() + " set statement_timeout = '300ms'");
        try {
            Cli.Result timedOut = Cli.run("load", "--url", db.settings().url());
            assertEquals(EnvironmentFailure.EXIT_CODE, timedOut.exitCode(), timedOut::toString);
            assertTrue(timedOut.err().contains("a statement was cancelled, by a statement_timeout or by someone"),
                    timedOut::toString);
            assertOneLineWithoutSql(timedOut);
        } finally {
            db.execute("alter role " + db.settings().user() + " in database " + database() + " reset statement_timeout");
        }
        assertEquals(0, db.count("select count(*) from test_mv.clients"));
        assertEquals(5, db.count("select documents from test_mv.pending()"));
    }

    private static String database() {
        return db.settings().url().replaceAll("^.*/([^/?]+)(\\?.*)?$", "$1");
    }
}
