package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.status.LoaderStatus;
import io.incrementalloader.status.StatusJson;
import java.sql.Connection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", description = "The position, what is pending (and the lag), rejected and loaded, and the last batches.")
final class StatusCommand extends DatabaseCommand {
    @Override
    boolean readsOnly() {
        return true;
    }

    @Option(names = "--json", description = "One JSON object, for scripts and monitoring.")
    boolean json;

    @Override
    int run(ConnectionSettings settings) throws Exception {
        LoaderStatus status;
        try (Connection connection = settings.open()) {
            status = LoaderStatus.read(connection);
        }
        if (json) {
            out().println(StatusJson.write(status));
        } else {
            out().print(status.render());
        }
        return 0;
    }
}
