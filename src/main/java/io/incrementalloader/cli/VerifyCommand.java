package io.incrementalloader.cli;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.verify.Reconciliation;
import java.sql.Connection;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "verify", description = "Check that the tables hold exactly what the loaded documents say; exit 1 "
        + "and the table named on a difference.")
final class VerifyCommand extends DatabaseCommand {
    @Override
    boolean readsOnly() {
        return true;
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        long started = System.nanoTime();
        List<Reconciliation.Difference> differences;
        long notCheckable;
        try (Connection connection = settings.open()) {
            differences = Reconciliation.check(connection);
            notCheckable = Reconciliation.notCheckable(connection);
        }
        double seconds = Elapsed.secondsSince(started);
        if (notCheckable > 0) {
            out().printf("Not checkable: %,d document(s) whose landing rows were pruned (prune_landing); their rows and"
                    + " outcomes are kept, and nothing is left to derive them from.%n", notCheckable);
        }
        if (differences.isEmpty()) {
            out().printf("Sound: clients, phones, addresses, products and load_duplicates hold exactly what the "
                    + "loaded documents say, and every taken document is accounted for once (%.1f s).%n", seconds);
            return 0;
        }
        for (Reconciliation.Difference difference : differences) {
            out().println("DIFFERENT " + difference);
        }
        return LoaderCommand.CHECK_FAILED;
    }
}
