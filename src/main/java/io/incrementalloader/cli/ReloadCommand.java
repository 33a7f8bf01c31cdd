package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.lifecycle.LifecycleCall;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "reload", description = "Derive the rows of the loaded documents of a range of ids again from their"
        + " landing rows (reload_documents), after a mapping fix or a damaged row.")
final class ReloadCommand extends DatabaseCommand {
    @Option(names = "--from-id", paramLabel = "ID", required = true, description = "The first request id.")
    long fromId;

    @Option(names = "--to-id", paramLabel = "ID", required = true, description = "The last request id.")
    long toId;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000", description = "Documents a batch (default 1000).")
    int batchSize;

    @Override
    void validate() {
        BatchOptions.check(batchSize);
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        LifecycleCall.call(settings, "call public.reload_documents(?, ?, ?)", fromId, toId, batchSize)
                .forEach(out()::println);
        return 0;
    }
}
