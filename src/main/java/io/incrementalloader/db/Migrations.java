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
 * <p>The loader keeps its own history, {@code test_mv.flyway_schema_history}, in its own schema: it installs beside an
 * application whose tables fill {@code public} and whose own Flyway history is {@code public.flyway_schema_history},
 * and never reads or writes that. Where it looks is pinned here, not taken from the session's search_path, so that a
 * database's or role's default search_path cannot send it elsewhere. A database migrated by an older version, whose
 * history of the loader was {@code public.flyway_schema_history}, has the loader's rows copied over once by the
 * first {@code migrate} ({@link LegacyHistory}).
 *
 * <p>Only {@code migrate} and the commands that load change the schema. When nothing is pending they only read the
 * history ({@code SELECT} on {@code test_mv.flyway_schema_history}), so a loading or reading role of least privilege
 * goes on; when something is pending and the role may not apply it, the command stops with a message saying who must
 * run {@code migrate}. The commands that read ({@link #requireCurrent}) never change anything.
 */
public final class Migrations {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.migrate");

    private Migrations() {
    }

    /** The loader's schema, which holds its history as well as its tables. */
    public static final String SCHEMA = "test_mv";
    public static final String HISTORY = SCHEMA + ".flyway_schema_history";

    static Flyway flyway(ConnectionSettings settings) {
        return Flyway.configure()
                .dataSource(settings.url(), settings.user(), settings.password())
                .jdbcProperties(java.util.Map.of("options", ConnectionSettings.SESSION_OPTIONS))
                .locations("classpath:db/migration")
                .schemas(SCHEMA)
                .defaultSchema(SCHEMA)
                .table("flyway_schema_history")
                .load();
    }

    /** How many migrations the database lacks (Flyway's info; it reads the history, and writes nothing). */
    public static int pending(ConnectionSettings settings) {
        return flyway(settings).info().pending().length;
    }

    /**
     * For the commands that only read: says, as a user error naming {@code migrate}, that the database has no loader
     * or lacks migrations, and changes nothing.
     */
    public static void requireCurrent(ConnectionSettings settings) {
        String database = databaseOf(settings);
        int pending;
        try {
            pending = pending(settings);
        } catch (FlywayException e) {
            throw unreadableHistory(settings, database, e);
        }
        if (pending == 0) {
            return;
        }
        boolean installed = LegacyHistory.installed(settings);
        throw new UserError(installed
                ? pending + " migration(s) of the loader are pending in database " + database + ": run"
                        + " `incremental-loader migrate` (as the role that owns the loader's schema) first."
                : "Database " + database + " has no incremental-loader schema (" + HISTORY + " is missing): run"
                        + " `incremental-loader migrate` to install it, or check --url.");
    }

    /** Brings the database to the current schema; returns how many migrations were applied. */
    public static int apply(ConnectionSettings settings) {
        String database = databaseOf(settings);
        requireWritable(settings, database);
        Flyway flyway = flyway(settings);
        int pending;
        try {
            LegacyHistory.adopt(settings, flyway);
            pending = flyway.info().pending().length;
        } catch (FlywayException e) {
            throw unreadableHistory(settings, database, e);
        }
        if (pending == 0) {
            CitusLayout.apply(settings, false);
            return 0;
        }
        // Said before anything is written, so that a URL naming an unexpected database is caught by the eye.
        log.info("migrating database {} ({}): {} migration(s) to apply", database, settings, pending);
        try {
            int applied = flyway.migrate().migrationsExecuted;
            CitusLayout.apply(settings, applied > 0);
            return applied;
        } catch (FlywayException e) {
            if (permissionDenied(e)) {
                throw new UserError(pending + " migration(s) are pending in database " + database + ", and role "
                        + settings.user() + " may not apply them. Run `incremental-loader migrate` as the role that owns"
                        + " the loader's schema, then this command again (README, Roles and privileges).");
            }
            throw e;
        }
    }

    /**
     * Refuses, in one line naming the database and its server, a target where nothing can be written: a hot standby,
     * or a database whose default is read-only transactions (a deliberate choice of its DBA, which the loader does not
     * override).
     */
    static void requireWritable(ConnectionSettings settings, String database) {
        try (Connection connection = settings.open(); Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select pg_catalog.pg_is_in_recovery(),"
                     + " pg_catalog.current_setting('transaction_read_only') = 'on',"
                     + " coalesce(pg_catalog.inet_server_addr()::text || ':' || pg_catalog.inet_server_port(), 'a local socket')")) {
            row.next();
            if (row.getBoolean(1) || row.getBoolean(2)) {
                throw new UserError("Database " + database + " at " + row.getString(3) + " is read-only ("
                        + (row.getBoolean(1) ? "a hot standby" : "default_transaction_read_only is on")
                        + "): nothing was changed. Point --url at the writable primary.");
            }
        } catch (SQLException e) {
            throw new UserError("Cannot tell whether database " + database + " is writable at " + settings + ": "
                    + e.getMessage());
        }
    }

    private static RuntimeException unreadableHistory(ConnectionSettings settings, String database, FlywayException e) {
        if (permissionDenied(e)) {
            return new UserError("Role " + settings.user() + " cannot read " + HISTORY + ", so it cannot tell whether"
                    + " database " + database + " is migrated. Grant it: grant usage on schema " + SCHEMA + " to "
                    + settings.user() + "; grant select on " + HISTORY + " to " + settings.user()
                    + " (README, Roles and privileges).");
        }
        return e;
    }

    /** The database the settings reach, as the server names it; connecting first turns a bad URL into one line. */
    static String databaseOf(ConnectionSettings settings) {
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
