package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prune", description = "Retention (prune_landing): remove the landing rows of documents that have their"
        + " outcome and are older than the cutoff, in short transactions; optionally the run history and the records"
        + " of duplicates too.")
final class PruneCommand extends DatabaseCommand {
    private static final Pattern AGE = Pattern.compile("(\\d{1,6})([wdhms])");
    private static final Map<String, String> UNITS = Map.of("w", "weeks", "d", "days", "h", "hours", "m", "minutes",
            "s", "seconds");

    @Option(names = "--older-than", paramLabel = "AGE", required = true,
            description = "Landing rows landed longer ago than AGE go: 30d, 12h, 2w (units w, d, h, m, s).")
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

    /** An age as PostgreSQL's interval text ("30 days"); null for none. */
    static String interval(String option, String age) {
        if (age == null) {
            return null;
        }
        Matcher m = AGE.matcher(age.trim());
        if (!m.matches()) {
            throw new UserError(option + " takes an age such as 30d, 12h or 2w, not '" + age + "'.");
        }
        return m.group(1) + " " + UNITS.get(m.group(2));
    }
}
