package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** --version says the loader's version and the schema version it expects: the highest migration of db/. */
class VersionTest {
    @Test
    void version_names_the_schema_version_of_the_newest_migration_in_db() throws Exception {
        String newest;
        try (Stream<Path> files = Files.list(Path.of("db/migration"))) {
            newest = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .map(n -> n.substring(1, n.indexOf("__"))).max(String::compareTo).orElseThrow();
        }
        Cli.Result version = Cli.run("--version");
        assertEquals(0, version.exitCode(), version::toString);
        assertTrue(version.out().startsWith("incremental-loader "), version::toString);
        assertTrue(version.out().strip().endsWith("database schema version " + newest), version::toString);
    }
}
