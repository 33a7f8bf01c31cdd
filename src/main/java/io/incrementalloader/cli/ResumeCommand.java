package io.incrementalloader.cli;

import io.incrementalloader.Printable;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.generated.public_.Routines;
import io.incrementalloader.load.LoadingPause;
import java.sql.Connection;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import picocli.CommandLine.Command;

@Command(name = "resume", description = "Resume loading after pause.")
final class ResumeCommand extends DatabaseCommand {
    @Override
    int run(ConnectionSettings settings) throws Exception {
        try (Connection connection = settings.open()) {
            LoadingPause before = LoadingPause.current(connection);
            Routines.resumeLoading(DSL.using(connection, SQLDialect.POSTGRES).configuration());
            out().println(before == null ? "Loading was not paused." : "Resumed: loading had been paused since "
                    + before.pausedAt().withNano(0) + " by " + Printable.of(before.pausedBy()) + ": "
                    + Printable.of(before.reason()) + ".");
        }
        return 0;
    }
}
