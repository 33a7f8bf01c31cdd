package io.incrementalloader.db;

import io.incrementalloader.UserError;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

/** Applies db/migration (shipped inside the jar) with Flyway. Safe to run from several processes at once. */
public final class Migrations {
    private Migrations() {
    }

    /** Brings the database to the current schema; returns how many migrations were applied. */
    public static int apply(ConnectionSettings settings) {
        try {
            MigrateResult result = Flyway.configure()
                    .dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("28")
                    || sql.getSQLState().equals("3D000"))) {
                throw new UserError("Cannot connect to " + settings + ": " + sql.getMessage()
                        + ". Check --url/--user/--password or LOADER_DB_URL/LOADER_DB_USER/LOADER_DB_PASSWORD.", e);
            }
            throw e;
        }
    }
}
