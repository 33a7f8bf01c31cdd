package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "reprocess", description = "Put rejected documents through today's rules (reprocess_rejected): those"
        + " that now load are loaded (or found duplicates), the others stay rejected with today's reason.")
final class ReprocessCommand extends DatabaseCommand {
    @Mixin
    RejectionFilter filter;

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
        LifecycleCall.call(settings, "call public.reprocess_rejected(?, ?, ?, ?, ?, ?, ?)", filter.reasonLike,
                filter.fromId, filter.toId, filter.rejectedAfter, filter.rejectedBefore, batchSize, dryRun)
                .forEach(out()::println);
        return 0;
    }
}
