package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** demo runs the whole job end to end and ends with a summary. */
class DemoCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void the_demo_migrates_generates_imports_loads_and_verifies() {
        Cli.Result result = Cli.run("demo", "--count", "3000", "--url", db.settings().url());
        assertEquals(0, result.exitCode(), result::toString);
        for (String step : new String[] {"1. migrate", "2. generate  3,000 documents", "3. import    3,000 documents",
                "4. load      3,000 documents", "5. verify    sound"}) {
            assertTrue(result.out().contains(step), step + " in\n" + result);
        }
        assertEquals(3000, db.count("select count(*) from test_mv.clients")
                + db.count("select count(*) from test_mv.load_errors") + db.count("select count(*) from test_mv.load_duplicates"));
    }
}
