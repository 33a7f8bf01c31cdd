package io.incrementalloader.cli;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.load.DocumentImporter;
import java.nio.file.Path;
import java.sql.Connection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "import", description = "Land a JSON array file, or one document a line (NDJSON), in "
        + "fake_json_request: all or nothing.")
final class ImportCommand extends DatabaseCommand {
    @Parameters(paramLabel = "FILE", description = "The file to land.")
    Path file;

    @Override
    int run(ConnectionSettings settings) throws Exception {
        long started = System.nanoTime();
        long count;
        try (Connection connection = settings.open(); Progress progress = new Progress("importing")) {
            count = new DocumentImporter().importFile(connection, file, progress::show);
        }
        double seconds = Elapsed.secondsSince(started);
        out().printf("Imported %,d documents from %s in %.1f s.%n", count, file, seconds);
        return 0;
    }
}
