package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file: flags beat it, it beats the environment and the defaults; secrets only by reference. */
class ConfigFileTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private Path config(String... lines) throws Exception {
        return Files.write(dir.resolve("loader.conf"), List.of(lines));
    }

    @Test
    void the_file_gives_the_options_and_a_flag_wins_over_it() throws Exception {
        Path file = config("url = " + db.settings().url(), "load.batch-size = 7", "batch-size = 1000");
        db.landNumbered(20);
        // No --url: the file's url wins over LOADER_DB_URL, which CI points at another database.
        Cli.Result load = Cli.run("load", "--config", file.toString());
        assertEquals(0, load.exitCode(), load::toString);
        assertEquals(List.of(List.of(7)), db.query("select distinct batch_size from test_mv.load_batches"));
        db.landNumbered(100, 20);
        Cli.Result flag = Cli.run("load", "--config", file.toString(), "--batch-size", "9");
        assertEquals(0, flag.exitCode(), flag::toString);
        assertEquals(List.of(List.of(7), List.of(9)),
                db.query("select distinct batch_size from test_mv.load_batches order by 1"));
        assertEquals(0, Cli.run("status", "--config", file.toString()).exitCode());
    }

    @Test
    void a_secret_is_read_from_the_file_it_names_never_written_inline() throws Exception {
        Path missing = dir.resolve("no-such-secret");
        Cli.Result byReference = Cli.run("status", "--config", config("url = " + db.settings().url(),
                "password-file = " + missing).toString());
        assertEquals(2, byReference.exitCode(), byReference::toString);
        assertTrue(byReference.err().contains("The password file " + missing + " does not exist"), byReference::toString);

        Cli.Result inline = Cli.run("status", "--config", config("url = " + db.settings().url(), "password = s3cret")
                .toString());
        assertEquals(2, inline.exitCode(), inline::toString);
        assertTrue(inline.err().contains("holds a password inline") && !inline.err().contains("s3cret"), inline::toString);
    }

    @Test
    void an_unknown_key_is_refused_with_exit_2() throws Exception {
        Cli.Result unknown = Cli.run("status", "--config", config("url = " + db.settings().url(), "batchsize = 5")
                .toString());
        assertEquals(2, unknown.exitCode(), unknown::toString);
        assertTrue(unknown.err().contains("has the key 'batchsize', which no option has"), unknown::toString);
        Cli.Result missingFile = Cli.run("status", "--config", dir.resolve("absent.conf").toString());
        assertEquals(2, missingFile.exitCode(), missingFile::toString);
    }
}
