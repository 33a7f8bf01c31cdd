package io.incrementalloader.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Objects;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;

/**
 * The loader's history where versions before V013's kept it: {@code public.flyway_schema_history}, Flyway's default,
 * which an application's own Flyway may share. The first {@code migrate} of a newer version copies the loader's rows
 * (those of its own scripts, by name) into {@code test_mv.flyway_schema_history}, in one transaction, and from then on
 * never looks at the public table again; it never writes it.
 */
final class LegacyHistory {
    private static final String LEGACY = "public.flyway_schema_history";
    /** The first migration the loader ever shipped: a legacy history that has it is (also) the loader's. */
    private static final String FIRST_SCRIPT = "V001__create_landing_and_stage.sql";

    private LegacyHistory() {
    }

    /** Whether the loader was ever installed in the database: its own history, or its rows in the legacy one. */
    static boolean installed(ConnectionSettings settings) {
        try (Connection connection = settings.open()) {
            return ownHistoryExists(connection) || legacyHasTheLoader(connection);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Copies the loader's rows of the legacy history into its own, when it has none yet and the legacy one has them. */
    static void adopt(ConnectionSettings settings, Flyway flyway) {
        String[] scripts = Arrays.stream(flyway.info().all())
                .map(MigrationInfo::getScript).filter(Objects::nonNull).toArray(String[]::new);
        try (Connection connection = settings.open()) {
            if (ownHistoryExists(connection) || !legacyHasTheLoader(connection)) {
                return;
            }
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement();
                 PreparedStatement copy = connection.prepareStatement("insert into " + Migrations.HISTORY
                         + " select * from " + LEGACY + " where script = any(?) order by installed_rank")) {
                // One migrate at a time adopts; the next finds the history made.
                statement.execute("select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('" + Migrations.HISTORY + "'))");
                if (!ownHistoryExists(connection)) {
                    statement.execute("create table " + Migrations.HISTORY + " (like " + LEGACY + " including all)");
                    copy.setArray(1, connection.createArrayOf("text", scripts));
                    copy.execute();
                }
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Could not copy the loader's history from " + LEGACY + " to "
                    + Migrations.HISTORY + ": " + e.getMessage(), e);
        }
    }

    private static boolean ownHistoryExists(Connection connection) throws SQLException {
        return exists(connection, "select pg_catalog.to_regclass('" + Migrations.HISTORY + "') is not null");
    }

    private static boolean legacyHasTheLoader(Connection connection) throws SQLException {
        if (!exists(connection, "select pg_catalog.to_regclass('" + LEGACY + "') is not null"
                + " and pg_catalog.has_table_privilege('" + LEGACY + "', 'select')")) {
            return false;
        }
        return exists(connection, "select exists (select 1 from " + LEGACY + " where script = '" + FIRST_SCRIPT
                + "' and success)");
    }

    private static boolean exists(Connection connection, String query) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(query)) {
            return row.next() && row.getBoolean(1);
        }
    }
}
