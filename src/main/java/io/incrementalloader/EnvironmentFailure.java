package io.incrementalloader;

import java.sql.SQLException;
import java.util.Optional;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A failure of where the loader runs, not of the loader or of the user's command: the disk full, memory or connections
 * exhausted, a statement cancelled by a timeout or by someone, a lost connection or a server shutting down, a
 * read-only database, a lock that could not be had, a transaction the server asks to retry. Told in one short line
 * (what, where, what to do) with the SQLSTATE, never with the SQL that was running (a batch's statement is a hundred
 * lines); the commands exit with {@link #EXIT_CODE}, which no bug of the loader's uses.
 */
public final class EnvironmentFailure extends RuntimeException {
    /** The exit code of a command that failed because of its environment. */
    public static final int EXIT_CODE = 4;

    private EnvironmentFailure(String line, Throwable cause) {
        super(line, cause);
    }

    /** The failure as one line, where it ran said (a database, a server), when it is the environment's. */
    public static Optional<EnvironmentFailure> of(Throwable failure, String where) {
        return describe(failure, " " + where).map(line -> new EnvironmentFailure(line, failure));
    }

    /** The one line that tells the failure, when it is the environment's; empty when it is not. */
    public static Optional<String> describe(Throwable failure) {
        return describe(failure, "");
    }

    private static Optional<String> describe(Throwable failure, String where) {
        SQLException sql = sqlException(failure);
        if (sql == null || sql.getSQLState() == null) {
            return Optional.empty();
        }
        String state = sql.getSQLState();
        String what = whatFailed(state);
        if (what == null) {
            return Optional.empty();
        }
        return Optional.of(what + where + " (SQLSTATE " + state + ": " + serverMessage(sql) + "). " + whatToDo(state));
    }

    private static String whatFailed(String state) {
        return switch (state) {
            case "53100" -> "the database server's disk is full";
            case "53200" -> "the database server is out of memory";
            case "53300" -> "the database server has no connection left";
            case "57014" -> "a statement was cancelled, by a statement_timeout or by someone";
            case "55P03" -> "a lock could not be had in time (lock_timeout)";
            case "25006" -> "the database is read-only";
            case "25P03" -> "the connection was closed after idling in a transaction (idle_in_transaction_session_timeout)";
            case "57P05" -> "the connection was closed after idling (idle_session_timeout)";
            case "57P01", "57P02", "57P03" -> "the database server is shutting down or restarting";
            case "40001", "40P01" -> "the server asked for the transaction to be retried (a serialization failure or deadlock)";
            case "XX001", "XX002" -> "the database reports corrupted data";
            case "IL001" -> "loading stopped: the safety net's circuit breaker opened, as documents kept failing for"
                    + " one reason that is not theirs";
            default -> switch (state.substring(0, 2)) {
                case "08" -> "the connection to the database was lost";
                case "53" -> "the database server ran out of a resource";
                case "58" -> "the database server failed on its own files or system";
                default -> null;
            };
        };
    }

    private static String whatToDo(String state) {
        if (state.equals("IL001")) {
            return "Fix the cause (a constraint, trigger or privilege added to the loader's tables?), then load again:"
                    + " the rest is pending, and reprocess brings back the documents rejected for it.";
        }
        return switch (state.substring(0, 2)) {
            case "53" -> "Free the resource on the server, then run again: nothing was lost, the failed batch rolled back.";
            case "57", "55", "25" -> state.equals("25006")
                    ? "Point --url at the writable primary: nothing was changed by the failed batch."
                    : "Check the server's timeouts and sessions, then run again: nothing was lost, the failed batch rolled back.";
            case "40" -> "Run again: nothing was lost, the failed batch rolled back.";
            default -> "Check the server, then run again: nothing was lost, the failed batch rolled back.";
        };
    }

    /** The server's own message, first line only: never the statement or its context. */
    private static String serverMessage(SQLException sql) {
        if (sql instanceof PSQLException psql && psql.getServerErrorMessage() != null) {
            ServerErrorMessage server = psql.getServerErrorMessage();
            return Printable.firstLine(server.getMessage());
        }
        return Printable.firstLine(sql.getMessage()).replaceFirst("^ERROR: ", "");
    }

    private static SQLException sqlException(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                return sql;
            }
        }
        return null;
    }
}
