package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import java.time.OffsetDateTime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "reprocess", description = "Put rejected documents through today's rules (reprocess_rejected): those"
        + " that now load are loaded (or found duplicates), the others stay rejected with today's reason.")
final class ReprocessCommand extends DatabaseCommand {
    @Option(names = "--reason-like", paramLabel = "PATTERN", defaultValue = "%",
            description = "Only rejections whose reason is LIKE the pattern (default %%: all).")
    String reasonLike;

    @Option(names = "--from-id", paramLabel = "ID", description = "Only request ids from ID.")
    Long fromId;

    @Option(names = "--to-id", paramLabel = "ID", description = "Only request ids up to ID.")
    Long toId;

    @Option(names = "--rejected-after", paramLabel = "TIME", description = "Only rejections at or after TIME"
            + " (ISO-8601 with offset, e.g. 2026-12-01T00:00:00Z).")
    OffsetDateTime rejectedAfter;

    @Option(names = "--rejected-before", paramLabel = "TIME", description = "Only rejections before TIME.")
    OffsetDateTime rejectedBefore;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000", description = "Documents a batch (default 1000).")
    int batchSize;

    @Option(names = "--dry-run", description = "Count the chosen rejections; change nothing.")
    boolean dryRun;

    @Override
    void validate() {
        BatchOptions.check(batchSize);
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        LifecycleCall.call(settings, "call public.reprocess_rejected(?, ?, ?, ?, ?, ?, ?)", reasonLike, fromId, toId,
                rejectedAfter, rejectedBefore, batchSize, dryRun).forEach(out()::println);
        return 0;
    }
}
