package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A command that does less than asked says why: who holds the lanes, that a pause stopped it and how far it got. */
class ToldWhyTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void load_with_every_lane_held_names_who_holds_them() throws Exception {
        db.landNumbered(40);
        try (Connection holder = db.connect(); Statement s = holder.createStatement()) {
            holder.setAutoCommit(false);
            s.execute("set application_name = 'a DBA''s session'");
            s.execute("select * from test_mv.load_metadata for update");
            Cli.Result load = Cli.run("load", "--url", db.settings().url());
            assertEquals(0, load.exitCode(), load::toString);
            assertTrue(load.out().contains("Nothing taken: the lanes with documents pending are held by pid ")
                    && load.out().contains("a DBA's session"), load::toString);
            holder.rollback();
        }
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());
        assertEquals(40, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_pause_stops_a_reload_and_a_reprocess_saying_how_far_they_got_with_exit_2() {
        db.landNumbered(10);
        db.land("{\"application_id\": \"bad\"}");
        db.execute("call load_pending(100)");
        db.execute("call pause_loading('a migration of the application')");
        Cli.Result reload = Cli.run("reload", "--url", db.settings().url(), "--from-id", "1", "--to-id", "100");
        assertEquals(2, reload.exitCode(), reload::toString);
        assertTrue(reload.err().contains("stopped, as loading is paused (a migration of the application), after reloading 0"
                + " document(s)") && reload.err().contains("resume_loading()"), reload::toString);
        Cli.Result reprocess = Cli.run("reprocess", "--url", db.settings().url());
        assertEquals(2, reprocess.exitCode(), reprocess::toString);
        assertTrue(reprocess.err().contains("reprocess_rejected: stopped, as loading is paused"), reprocess::toString);
    }

    @Test
    void the_smallest_and_largest_ids_are_ranges_like_any_other() {
        db.landNumbered(5);
        db.land("{\"application_id\": \"bad\"}");
        db.execute("call load_pending(100)");
        Cli.Result reload = Cli.run("reload", "--url", db.settings().url(), "--from-id", String.valueOf(Long.MIN_VALUE),
                "--to-id", String.valueOf(Long.MAX_VALUE));
        assertEquals(0, reload.exitCode(), reload::toString);
        assertTrue(reload.out().contains("reloaded 5 document(s)"), reload::toString);
        Cli.Result reprocess = Cli.run("reprocess", "--url", db.settings().url(), "--from-id", String.valueOf(Long.MIN_VALUE),
                "--to-id", String.valueOf(Long.MAX_VALUE));
        assertEquals(0, reprocess.exitCode(), reprocess::toString);
        assertTrue(reprocess.out().contains("reprocessed 1 rejected document(s)"), reprocess::toString);
    }
}
