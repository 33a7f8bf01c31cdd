package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** demo runs the whole job end to end, in a database of its own, and ends with a summary. */
class DemoCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @AfterAll
    static void dropTheDemosDatabase() {
        db.execute("drop database if exists " + DemoCommand.DATABASE + " with (force)");
    }

    @Test
    void every_demo_migrates_generates_imports_loads_and_verifies_in_its_own_database() {
        for (int run = 1; run <= 2; run++) {
            Cli.Result result = Cli.run("demo", "--count", "3000", "--url", db.settings().url());
            assertEquals(0, result.exitCode(), result::toString);
            for (String step : new String[] {"Database: " + DemoCommand.DATABASE + ", created afresh", "1. migrate",
                    "2. generate  3,000 documents", "3. import    3,000 documents", "4. load      3,000 documents",
                    "(loaded 2,880, rejected 61, duplicates 59", "5. verify    sound",
                    // The closing hint names the demo's database: run as written, it reads what the demo loaded.
                    "Next: `incremental-loader status --url " + db.settings().withDatabase(DemoCommand.DATABASE).maskedUrl()}) {
                assertTrue(result.out().contains(step), step + " in run " + run + "\n" + result);
            }
        }
        assertEquals(0, db.count("select count(*) from fake_json_request"), "the configured database is left alone");
    }

    @Test
    void the_embedded_fallback_commits_as_postgresql_does_by_default() throws Exception {
        try (EmbeddedPostgres embedded = DemoCommand.startEmbedded();
             Connection connection = embedded.getPostgresDatabase().getConnection();
             ResultSet setting = connection.createStatement().executeQuery("show synchronous_commit")) {
            setting.next();
            assertEquals("on", setting.getString(1));
        }
    }
}
