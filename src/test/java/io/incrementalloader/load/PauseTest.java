package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** pause_loading and resume_loading: while paused, no caller takes a document, and each is told why. */
class PauseTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void while_paused_a_dbas_call_takes_nothing_and_says_why_and_after_resume_it_loads() throws Exception {
        db.landNumbered(3);
        try (Connection dba = db.connect(); Statement s = dba.createStatement()) {
            s.execute("set application_name = 'dba-psql'");
            s.execute("call pause_loading('downstream migration')");
            s.execute("call load_batch(100)");
            String notice = notices(s);
            assertTrue(notice.contains("loading is paused since "), notice);
            assertTrue(notice.contains("(dba-psql, pid "), notice);
            assertTrue(notice.endsWith(": downstream migration; nothing taken"), notice);
            s.execute("call load_pending(100)");
            assertEquals(0, db.count("select count(*) from test_mv.clients"));
            assertEquals(0, db.count("select count(*) from test_mv.load_batches"), "not even an empty batch recorded");

            s.execute("call resume_loading()");
            s.execute("call load_batch(100)");
        }
        assertEquals(3, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void status_shows_who_paused_when_and_why_and_load_exits_0_saying_so() throws Exception {
        db.landNumbered(2);
        Cli.Result pause = Cli.run("pause", "--url", db.settings().url(), "incident", "42");
        assertEquals(0, pause.exitCode(), pause::toString);
        assertTrue(pause.out().startsWith("Paused: loading is paused since "), pause::toString);

        JsonNode status = new ObjectMapper().readTree(Cli.run("status", "--json", "--url", db.settings().url()).out());
        assertEquals("incident 42", status.at("/paused/reason").asText(), status::toString);
        assertTrue(status.at("/paused/pausedBy").asText().startsWith("postgres ("), status::toString);
        assertTrue(Cli.run("status", "--url", db.settings().url()).out().contains("Paused     since "));

        Cli.Result load = Cli.run("load", "--url", db.settings().url());
        assertEquals(0, load.exitCode(), load::toString);
        assertTrue(load.out().startsWith("Nothing loaded: loading is paused since "), load::toString);
        assertEquals(0, db.count("select count(*) from test_mv.clients"));

        Cli.Result again = Cli.run("pause", "--url", db.settings().url(), "another reason");
        assertTrue(again.out().startsWith("Already paused: ") && again.out().contains(": incident 42."), again::toString);

        Cli.Result resume = Cli.run("resume", "--url", db.settings().url());
        assertEquals(0, resume.exitCode(), resume::toString);
        assertTrue(resume.out().startsWith("Resumed: loading had been paused since "), resume::toString);
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());
        assertEquals(2, db.count("select count(*) from test_mv.clients"));
        assertTrue(new ObjectMapper().readTree(Cli.run("status", "--json", "--url", db.settings().url()).out())
                .at("/paused").isNull());
    }

    /** A pause does not wait for a running batch, and the batch finishes; the batches after it take nothing. */
    @Test
    void pausing_while_a_batch_runs_lets_that_batch_finish() throws Exception {
        db.landNumbered(160); // some ten a lane: the batch takes its four from one
        try (Connection running = db.connect(); Statement batch = running.createStatement()) {
            running.setAutoCommit(false);
            batch.execute("select test_mv.load_next_batch(4)"); // a batch in progress: its transaction still open
            try (Connection dba = db.connect(); Statement s = dba.createStatement()) {
                s.execute("set statement_timeout = '5s'"); // pausing must not wait for the batch
                s.execute("call pause_loading('maintenance')");
            }
            running.commit();
        }
        assertEquals(4, db.count("select count(*) from test_mv.clients"), "the running batch finished");
        db.execute("call load_pending(100)");
        assertEquals(4, db.count("select count(*) from test_mv.clients"), "nothing after it");
    }

    @Test
    void a_pause_needs_a_reason() {
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> db.execute("call pause_loading('  ')"));
        assertTrue(refused.getMessage().contains("pause_loading: say why loading is paused"), refused::getMessage);
        Cli.Result blank = Cli.run("pause", "--url", db.settings().url(), " ");
        assertEquals(2, blank.exitCode(), blank::toString);
        assertEquals(0, db.count("select count(*) from test_mv.load_control where paused_at is not null"));
    }

    private static String notices(Statement s) throws SQLException {
        StringBuilder all = new StringBuilder();
        for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
            all.append(w.getMessage());
        }
        return all.toString();
    }
}
