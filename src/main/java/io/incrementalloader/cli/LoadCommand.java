package io.incrementalloader.cli;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import java.sql.Connection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "load", description = "One run: call load_batch(N) until nothing is pending.")
final class LoadCommand extends DatabaseCommand {
    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100", description = "Documents a batch (default 100).")
    int batchSize;

    @Option(names = "--async-commit", description = BatchOptions.ASYNC_COMMIT_DESCRIPTION)
    boolean asyncCommit;

    @Override
    void validate() {
        BatchOptions.check(batchSize);
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        long started = System.nanoTime();
        BatchFigures figures;
        try (Connection connection = settings.open(); Progress progress = new Progress("loading")) {
            figures = new BatchLoader(batchSize, asyncCommit).drain(connection, () -> false, total -> progress.show(total.taken()));
        }
        double seconds = Elapsed.secondsSince(started);
        out().printf("Loaded %s in %.1f s.%n", figures, seconds);
        return 0;
    }
}
