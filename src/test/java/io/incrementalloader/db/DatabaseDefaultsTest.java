package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The database's defaults do not decide for the loader: timeouts a DBA set for every session of the database cut
 * neither a batch nor the check of a run, a cap set for the loader's own role is honoured, and a read-only target is
 * refused in one line.
 */
class DatabaseDefaultsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String CAPPED = "il_test_capped";

    private static String database() {
        return db.settings().url().replaceAll("^.*/([^/?]+)(\\?.*)?$", "$1");
    }

    @AfterEach
    void resetDefaults() {
        db.execute("begin read write; alter database " + database() + " reset all; drop role if exists " + CAPPED + "; commit");
    }

    @Test
    void database_timeouts_neither_stall_a_large_run_nor_cancel_its_check() {
        db.landGenerated(7, 20_000, 0.05, 0.02);
        // Each far below what a batch of 1,000 or a check chunk of 10,000 documents takes.
        db.execute("alter database " + database() + " set statement_timeout = '40ms';"
                + " alter database " + database() + " set lock_timeout = '5ms';"
                + " alter database " + database() + " set idle_in_transaction_session_timeout = '20ms'");
        Cli.Result load = Cli.run("load", "--url", db.settings().url(), "--batch-size", "1000");
        assertEquals(0, load.exitCode(), load::toString);
        assertTrue(load.out().contains("Checked"), load::toString);
        assertEquals(0, db.count("select documents from test_mv.pending()"));
        assertEquals(1, db.count("select count(*) from test_mv.run_checks where verdict = 'sound'"));
        assertEquals(0, db.count("select count(*) from test_mv.failed_runs"));
    }

    @Test
    void a_cap_set_for_the_loaders_own_role_is_honoured_and_the_databases_is_not() throws Exception {
        db.execute("create role " + CAPPED + " login; alter role " + CAPPED + " set statement_timeout = '7s';"
                + " alter database " + database() + " set statement_timeout = '40ms';"
                + " alter database " + database() + " set lock_timeout = '5ms';"
                + " alter database " + database() + " set search_path = app, public");
        try (Connection capped = new ConnectionSettings(db.settings().url(), CAPPED, null, true).open();
             Statement s = capped.createStatement();
             ResultSet r = s.executeQuery("select current_setting('statement_timeout'), current_setting('lock_timeout'),"
                     + " current_setting('search_path')")) {
            r.next();
            assertEquals("7s", r.getString(1), "the role's own cap");
            assertEquals("0", r.getString(2), "the database's default is not the loader's");
            assertEquals("public", r.getString(3), "pg_catalog is searched first all the same");
        }
    }

    @Test
    void a_read_only_database_is_refused_in_one_line_and_still_reads() {
        db.landNumbered(3);
        db.execute("alter database " + database() + " set default_transaction_read_only = on");
        for (String command : new String[] {"load", "migrate"}) {
            Cli.Result refused = Cli.run(command, "--url", db.settings().url());
            assertEquals(2, refused.exitCode(), refused::toString);
            assertTrue(refused.err().contains("Database " + database() + " at ") && refused.err().contains("is read-only"),
                    refused::toString);
            assertEquals(1, refused.err().strip().lines().count(), refused::toString);
            assertFalse(refused.err().contains("\tat "), refused::toString);
        }
        Cli.Result status = Cli.run("status", "--url", db.settings().url());
        assertEquals(0, status.exitCode(), status::toString);
        assertEquals(0, db.count("select count(*) from test_mv.clients"));
    }
}
