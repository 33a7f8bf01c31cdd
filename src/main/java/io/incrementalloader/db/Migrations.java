package io.incrementalloader.db;

import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;

/** Applies db/migration (shipped inside the jar) with Flyway. Safe to run from several processes at once. */
public final class Migrations {
    private Migrations() {
    }

    /** Brings the database to the current schema; returns how many migrations were applied. */
    public static int apply(ConnectionSettings settings) {
        // Connecting first turns an unreachable server or a wrong password into one clear line, not Flyway's report.
        try (Connection probe = settings.open()) {
            probe.isValid(1);
        } catch (SQLException e) {
            // Closing a connection that just opened fails only if the server went away; Flyway will say so.
        }
        return Flyway.configure()
                .dataSource(settings.url(), settings.user(), settings.password())
                .locations("classpath:db/migration")
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
