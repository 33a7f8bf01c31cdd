package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * rejections: each rejection's rule beside its reason; a list, counts by rule, and an NDJSON export that, fixed and
 * landed again, loads.
 */
class RejectionsCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private void landAndLoadMixed() {
        db.land("{\"application_id\": 1, \"addresses\": [{\"date\": \"31-02-2020\"}]}",
                "{\"application_id\": 2, \"addresses\": [{\"date\": \"01-01-2020\"}, {\"date\": \"2020-01-01\"}]}",
                "{\"application_id\": 3, \"products\": {\"product_cnt\": {\"pen\": 1.5}}}",
                "{\"application_id\": 4, \"products\": {\"product_cnt\": {\"ink: blue\": \"x\"}}}",
                "{\"application_id\": \"five\"}",
                "{\"application_id\": 6}");
        db.execute("call load_pending(100)");
    }

    @Test
    void each_rejection_has_a_rule_and_they_count_by_rule() {
        landAndLoadMixed();
        assertEquals(List.of(List.of("addresses.date", 2L), List.of("application_id", 1L), List.of("products.product_cnt", 2L)),
                db.query("select rule, count(*) from test_mv.rejections group by rule order by rule"));
        Cli.Result byRule = Cli.run("rejections", "--url", db.settings().url(), "--by-rule");
        assertEquals(0, byRule.exitCode(), byRule::toString);
        assertTrue(byRule.out().lines().anyMatch(l -> l.startsWith("addresses.date") && l.contains(" 2  ")), byRule::toString);
        assertTrue(byRule.out().lines().anyMatch(l -> l.startsWith("products.product_cnt") && l.contains(" 2  ")), byRule::toString);
        Cli.Result list = Cli.run("rejections", "--url", db.settings().url(), "--rule", "addresses.date");
        assertEquals(0, list.exitCode(), list::toString);
        assertEquals(2, list.out().lines().count(), list::toString);
        assertTrue(list.out().contains("addresses.date: addresses[1].date: not null and not a real date"), list::toString);
    }

    @Test
    void an_export_fixed_and_landed_again_loads() throws Exception {
        landAndLoadMixed();
        Path file = dir.resolve("dates.ndjson");
        Cli.Result export = Cli.run("rejections", "--url", db.settings().url(), "--rule", "addresses.date", "--export",
                file.toString());
        assertEquals(0, export.exitCode(), export::toString);
        assertTrue(export.out().contains("Exported 2 rejected document(s)"), export::toString);
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size(), lines::toString);
        assertFalse(Files.exists(dir.resolve("dates.ndjson.partial")));
        // The fix: the dates written as the rule wants them.
        Files.write(file, lines.stream().map(l -> l.replace("31-02-2020", "28-02-2020").replace("2020-01-01", "01-01-2020"))
                .toList());
        assertEquals(0, Cli.run("import", file.toString(), "--url", db.settings().url()).exitCode());
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());
        assertEquals(List.of(List.of(1L, 1L)), db.query("select count(*) filter (where application_id = 1),"
                + " count(*) filter (where application_id = 2) from test_mv.clients"));
        Cli.Result again = Cli.run("rejections", "--url", db.settings().url(), "--export", file.toString());
        assertEquals(2, again.exitCode(), "an existing file is not overwritten: " + again);
    }
}
