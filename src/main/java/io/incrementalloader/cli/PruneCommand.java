package io.incrementalloader.cli;

import io.incrementalloader.Durations;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prune", description = "Retention (prune_landing): remove the landing rows of documents that have their"
        + " outcome and are older than the cutoff, in short transactions; optionally the run history and the records"
        + " of duplicates too.")
final class PruneCommand extends DatabaseCommand {

    @Option(names = "--older-than", paramLabel = "AGE", required = true,
            description = "Landing rows landed longer ago than AGE go: 30d, 12h, 2w, PT1H (one duration format for every option).")
    String olderThan;

    @Option(names = "--history-older-than", paramLabel = "AGE",
            description = "Also the run history (batches, checks, failed runs) older than AGE (default: kept).")
    String historyOlderThan;

    @Option(names = "--duplicates-older-than", paramLabel = "AGE",
            description = "Also the records of duplicates decided longer ago than AGE whose landing row is gone"
                    + " (default: kept).")
    String duplicatesOlderThan;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "10000", description = "Rows a transaction (default 10000).")
    int batchSize;

    @Override
    void validate() {
        BatchOptions.check(batchSize);
        interval("--older-than", olderThan);
        interval("--history-older-than", historyOlderThan);
        interval("--duplicates-older-than", duplicatesOlderThan);
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        LifecycleCall.call(settings, "call public.prune_landing(?::interval, ?::interval, ?::interval, ?)",
                        interval("--older-than", olderThan), interval("--history-older-than", historyOlderThan),
                        interval("--duplicates-older-than", duplicatesOlderThan), batchSize)
                .forEach(out()::println);
        return 0;
    }

    /** Ages up to a century: retention is a matter of years at most. */
    private static final java.time.Duration OLDEST = java.time.Duration.ofDays(36_525);

    /** An age (Durations' format: 30d, 12h, 2w, PT1H) as PostgreSQL's interval text, in seconds; null for none. */
    static String interval(String option, String age) {
        return age == null ? null : Durations.parse(age, option, OLDEST).toSeconds() + " seconds";
    }
}
