package io.incrementalloader.load;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.Printable;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.generated.test_mv.Routines;
import java.sql.Connection;
import java.sql.SQLException;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the runs of load and serve go, kept in the database (test_mv.failed_runs and run_health, V008): a failed run
 * is recorded after its batch rolled back, on a connection of its own, and a run that succeeds clears the count of
 * consecutive failures. Recording is best effort: when the database is what failed, the log is all there is.
 */
public final class RunHealth {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.serve");

    private RunHealth() {
    }

    /** A run succeeded: the count of consecutive failures starts again from 0. */
    public static void success(Connection connection) {
        Routines.recordRunSuccess(DSL.using(connection, SQLDialect.POSTGRES).configuration());
    }

    /**
     * Records a failed run; returns the number of consecutive failed runs, this one included, or 0 when it could not
     * be recorded (the failure and the reason are logged).
     */
    public static int failure(ConnectionSettings settings, Throwable error) {
        try (Connection connection = settings.open()) {
            Integer count = Routines.recordRunFailure(DSL.using(connection, SQLDialect.POSTGRES).configuration(),
                    sqlState(error), message(error));
            return count == null ? 0 : count;
        } catch (RuntimeException | SQLException e) {
            log.warn("the failed run could not be recorded in test_mv.failed_runs: {}", message(e));
            return 0;
        }
    }

    /** The SQLSTATE behind a failure, however jOOQ or Flyway wrapped it; null when there is none. */
    public static String sqlState(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    /**
     * A failure's message, on one line: the environment's (EnvironmentFailure) as it is told to people; else the
     * database's own message when there is one, never the SQL a wrapper (jOOQ's) puts before it; else the failure's.
     */
    public static String message(Throwable e) {
        return EnvironmentFailure.describe(e).orElseGet(() -> {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof SQLException sql && sql.getMessage() != null) {
                    return Printable.firstLine(sql.getMessage());
                }
            }
            return Printable.firstLine(e.getMessage() == null ? e.toString() : e.getMessage());
        });
    }
}
