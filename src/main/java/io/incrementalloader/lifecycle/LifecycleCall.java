package io.incrementalloader.lifecycle;

import io.incrementalloader.Printable;
import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Calls one of the SQL operations of the data's lifecycle (reprocess_rejected, reject_document, reload_documents,
 * prune_landing) as a DBA would, in autocommit mode, so that the procedures that work batch after batch can commit
 * each batch; returns what they say (their notices). The SQL is the interface and holds the guarantees: the command
 * line adds nothing but options. A refused call (a bad argument) is the user's mistake: its message, exit 2.
 */
public final class LifecycleCall {
    private LifecycleCall() {
    }

    public static List<String> call(ConnectionSettings settings, String sql, Object... parameters) throws SQLException {
        try (Connection connection = settings.open(); PreparedStatement call = connection.prepareStatement(sql)) {
            connection.setAutoCommit(true);
            for (int i = 0; i < parameters.length; i++) {
                call.setObject(i + 1, parameters[i]);
            }
            try {
                call.execute();
            } catch (SQLException e) {
                // invalid_parameter_value: what the routines raise for bad arguments; object_not_in_prerequisite_state:
                // a walk stopped by a pause, saying how far it got.
                if ("22023".equals(e.getSQLState()) || "55000".equals(e.getSQLState())) {
                    ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
                    throw new UserError(Printable.of(server != null ? server.getMessage() : e.getMessage()) + "."
                            + (server != null && server.getHint() != null ? " " + Printable.of(server.getHint()) : ""));
                }
                throw e;
            }
            List<String> notices = new ArrayList<>();
            for (SQLWarning w = call.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(Printable.of(w.getMessage()));
            }
            return notices;
        }
    }
}
