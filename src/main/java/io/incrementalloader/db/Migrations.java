package io.incrementalloader.db;

import io.incrementalloader.UserError;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies db/migration (shipped inside the jar) with Flyway. Safe to run from several processes at once.
 *
 * <p>Every command calls it, but only {@code migrate}'s role needs to be able to create: when nothing is pending it
 * only reads Flyway's history ({@code SELECT} on {@code public.flyway_schema_history}), so a loading or reading role
 * of least privilege goes on; when something is pending and the role may not apply it, the command stops with a
 * message saying who must run {@code migrate}.
 */
public final class Migrations {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.migrate");

    private Migrations() {
    }

    /** How many migrations the database lacks (Flyway's info; it reads the history, and writes nothing). */
    public static int pending(ConnectionSettings settings) {
        return Flyway.configure()
                .dataSource(settings.url(), settings.user(), settings.password())
                .locations("classpath:db/migration")
                .load().info().pending().length;
    }

    /** Brings the database to the current schema; returns how many migrations were applied. */
    public static int apply(ConnectionSettings settings) {
        String database = databaseOf(settings);
        Flyway flyway = Flyway.configure()
                .dataSource(settings.url(), settings.user(), settings.password())
                .locations("classpath:db/migration")
                .load();
        int pending;
        try {
            pending = flyway.info().pending().length;
        } catch (FlywayException e) {
            if (permissionDenied(e)) {
                throw new UserError("Role " + settings.user() + " cannot read public.flyway_schema_history, so it cannot"
                        + " tell whether database " + database + " is migrated. Grant it: grant select on"
                        + " public.flyway_schema_history to " + settings.user() + " (README, Roles and privileges).");
            }
            throw e;
        }
        if (pending == 0) {
            return 0;
        }
        // Said before anything is written, so that a URL naming an unexpected database is caught by the eye.
        log.info("migrating database {} ({}): {} migration(s) to apply", database, settings, pending);
        try {
            return flyway.migrate().migrationsExecuted;
        } catch (FlywayException e) {
            if (permissionDenied(e)) {
                throw new UserError(pending + " migration(s) are pending in database " + database + ", and role "
                        + settings.user() + " may not apply them. Run `incremental-loader migrate` as the role that owns"
                        + " the loader's schema, then this command again (README, Roles and privileges).");
            }
            throw e;
        }
    }

    /** The database the settings reach, as the server names it; connecting first turns a bad URL into one line. */
    private static String databaseOf(ConnectionSettings settings) {
        try (Connection connection = settings.open(); Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select pg_catalog.current_database()")) {
            row.next();
            return row.getString(1);
        } catch (SQLException e) {
            throw new UserError("Cannot read the database's name at " + settings + ": " + e.getMessage());
        }
    }

    private static boolean permissionDenied(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && "42501".equals(sql.getSQLState())) {
                return true;
            }
            if (cause.getMessage() != null && cause.getMessage().contains("permission denied")) {
                return true;
            }
        }
        return false;
    }
}
