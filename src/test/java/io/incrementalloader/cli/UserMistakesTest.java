package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every mistake a user can type is exit 2 and a short message that says what to do, never a stack trace. */
class UserMistakesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private static void assertRefused(Cli.Result result, String says) {
        assertEquals(2, result.exitCode(), result::toString);
        assertTrue(result.err().contains(says), () -> "'" + says + "' in: " + result);
        assertFalse(result.err().contains("\tat ") || result.err().contains("Exception"), result::toString);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--interval|99999999999999999999s|longer than 366 days",
            "--interval|9999999999999999h|longer than 366 days",
            "--interval|400d|longer than 366 days",
            "--interval|soon|is not a duration",
            "--cron|0 0 30 2 *|never fires",
            "--retry-delay|0s|longer than zero"})
    void serve_refuses_a_schedule_that_cannot_be_kept(String option, String value, String says) {
        assertRefused(Cli.run("serve", "--url", db.settings().url(), option, value), says);
        assertEquals(0, db.count("select count(*) from test_mv.load_batches"), "nothing ran");
    }

    @Test
    void generate_refuses_a_directory_as_its_output_and_shares_that_are_not_numbers() {
        assertRefused(Cli.run("generate", "--count", "3", "--output", dir.toString()), "is a directory");
        assertRefused(Cli.run("generate", "--count", "3", "--duplicates", "NaN", "--output",
                dir.resolve("x.json").toString()), "shares between 0 and 1");
        assertFalse(Files.exists(dir.resolve("x.json")), "nothing written");
    }

    @Test
    void every_duration_option_takes_the_one_format() {
        // PT1H and 1d: ISO-8601 and the short form, for serve's schedule as for prune's ages.
        Cli.Result prune = Cli.run("prune", "--url", db.settings().url(), "--older-than", "PT1H",
                "--history-older-than", "1d", "--duplicates-older-than", "2w");
        assertEquals(0, prune.exitCode(), prune::toString);
        assertEquals(java.time.Duration.ofDays(1),
                io.incrementalloader.Durations.parse("1d", "--interval", java.time.Duration.ofDays(366)));
        assertRefused(Cli.run("prune", "--url", db.settings().url(), "--older-than", "a month"), "is not a duration");
    }

    @Test
    void reject_without_a_reason_is_a_usage_error_and_help_prints_no_warnings() {
        assertRefused(Cli.run("reject", "--url", db.settings().url(), "1"), "REASON");
        for (String command : new String[] {"reprocess", "reject", "reload", "prune", "serve", "load"}) {
            Cli.Result help = Cli.run(command, "--help");
            assertEquals(0, help.exitCode(), help::toString);
            assertFalse(help.out().contains("WARN") || help.err().contains("WARN"), help::toString);
        }
    }

    @Test
    void a_url_that_names_no_database_is_refused_before_anything_is_migrated() {
        assertRefused(Cli.run("migrate", "--url", "jdbc:postgresql:"), "names no database");
        assertRefused(Cli.run("status", "--url", "jdbc:postgresql://127.0.0.1:5432/?password=s3cret"), "names no database");
        assertFalse(Cli.run("status", "--url", "jdbc:postgresql://127.0.0.1:5432/?password=s3cret").err().contains("s3cret"));
    }

    @Test
    void the_password_comes_from_a_file_and_not_from_both_places() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "whatever\n");
        Cli.Result fromFile = Cli.run("status", "--url", db.settings().url(), "--password-file", secret.toString());
        assertEquals(0, fromFile.exitCode(), fromFile::toString);
        assertRefused(Cli.run("status", "--url", db.settings().url(), "--password-file", secret.toString(),
                "--password", "x"), "not both");
        assertRefused(Cli.run("status", "--url", db.settings().url(), "--password-file",
                dir.resolve("missing").toString()), "does not exist");
        String help = Cli.run("status", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("sees it in `ps`: prefer LOADER_DB_PASSWORD or --password-file"), help);
    }

    @Test
    void help_prints_without_a_picocli_warning() {
        for (String command : new String[] {"load", "serve"}) {
            Cli.Result help = Cli.run(command, "--help");
            assertEquals(0, help.exitCode());
            assertFalse(help.err().contains("WARN") || help.out().contains("[picocli WARN]"), help::toString);
        }
    }
}
