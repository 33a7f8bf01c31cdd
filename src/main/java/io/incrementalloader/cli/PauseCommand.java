package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.generated.public_.Routines;
import io.incrementalloader.load.LoadingPause;
import java.sql.Connection;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pause", description = "Pause loading for every caller (serve, load, load_batch, pg_cron) until resume;"
        + " a batch already running finishes. The reason shows in status.")
final class PauseCommand extends DatabaseCommand {
    @Parameters(paramLabel = "REASON", arity = "1..*", description = "Why (shown to everyone in status).")
    java.util.List<String> reason;

    @Override
    void validate() {
        if (String.join(" ", reason).isBlank()) {
            throw new io.incrementalloader.UserError("pause: say why loading is paused (it shows in status).");
        }
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        try (Connection connection = settings.open()) {
            LoadingPause before = LoadingPause.current(connection);
            Routines.pauseLoading(DSL.using(connection, SQLDialect.POSTGRES).configuration(), String.join(" ", reason));
            LoadingPause now = LoadingPause.current(connection);
            out().println(before != null ? "Already paused: " + before.describe() + "." : "Paused: " + now.describe()
                    + ". Resume with: resume");
        }
        return 0;
    }
}
