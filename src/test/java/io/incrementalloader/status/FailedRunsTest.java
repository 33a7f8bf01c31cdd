package io.incrementalloader.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A failed run rolls its batch back, but leaves a trace: test_mv.failed_runs, and the count of consecutive failures
 * in status and status --json, which the next run that succeeds clears.
 */
class FailedRunsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static JsonNode statusJson() throws Exception {
        Cli.Result status = Cli.run("status", "--json", "--url", db.settings().url());
        assertEquals(0, status.exitCode(), status::toString);
        return new ObjectMapper().readTree(status.out());
    }

    @Test
    void a_failed_run_is_recorded_and_shown_until_a_run_succeeds() throws Exception {
        db.landNumbered(5);
        // An error of the environment (a full disk), which no batch survives and the loader never turns into rejections.
        db.execute("create function public.il_test_disk_full() returns trigger language plpgsql as"
                + " $$ begin raise exception 'could not extend file' using errcode = '53100'; end $$;"
                + " create trigger il_test_disk_full before insert on test_mv.clients for each row"
                + " execute function public.il_test_disk_full()");
        try {
            for (int run = 1; run <= 2; run++) {
                Cli.Result load = Cli.run("load", "--url", db.settings().url());
                assertTrue(load.exitCode() != 0, load::toString);
            }
        } finally {
            db.execute("drop trigger il_test_disk_full on test_mv.clients; drop function public.il_test_disk_full()");
        }
        assertEquals(2L, db.count("select count(*) from test_mv.failed_runs where sqlstate = '53100'"));
        assertEquals(0L, db.count("select count(*) from test_mv.clients"), "the failed batches rolled back");

        JsonNode runs = statusJson().path("runs");
        assertEquals(2, runs.path("consecutiveFailures").asInt(), runs::toString);
        assertEquals("53100", runs.path("lastFailure").path("sqlstate").asText(), runs::toString);
        assertTrue(runs.path("lastFailure").path("message").asText().contains("could not extend file"), runs::toString);
        Cli.Result text = Cli.run("status", "--url", db.settings().url());
        assertTrue(text.out().contains("Failing    2 run(s) in a row; the last "), text::toString);

        Cli.Result load = Cli.run("load", "--url", db.settings().url());
        assertEquals(0, load.exitCode(), load::toString);
        runs = statusJson().path("runs");
        assertEquals(0, runs.path("consecutiveFailures").asInt(), runs::toString);
        assertFalse(runs.path("lastSuccessAt").isNull(), runs::toString);
        assertFalse(Cli.run("status", "--url", db.settings().url()).out().contains("Failing"));
        assertEquals(5L, db.count("select count(*) from test_mv.clients"));
    }
}
