package io.incrementalloader.cli;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import java.util.Optional;
import picocli.CommandLine.Mixin;

/**
 * A command that works on the database. One that writes applies the migrations first; one that only reads
 * ({@link #readsOnly}) changes nothing, and stops with a message naming {@code migrate} when the database is not at the
 * current schema.
 */
abstract class DatabaseCommand extends ReportingCommand {
    @Mixin
    ConnectionOptions connection;

    @Override
    public final Integer call() throws Exception {
        validate();
        ConnectionSettings settings = connection.settings();
        try {
            if (readsOnly()) {
                Migrations.requireCurrent(settings);
            } else {
                Migrations.apply(settings);
            }
            return run(settings);
        } catch (UserError e) {
            throw e; // told already, in the user's terms (a connection refused at the start is a wrong --url)
        } catch (Exception e) {
            // A failure of the environment is told in one line naming the database (EnvironmentFailure).
            Optional<EnvironmentFailure> environment = EnvironmentFailure.of(e, "in database "
                    + settings.databaseName() + " at " + settings.server());
            if (environment.isPresent()) {
                throw environment.get();
            }
            throw e;
        }
    }

    /** Whether the command only reads: it must then never change the database, its schema included. */
    boolean readsOnly() {
        return false;
    }

    /** Checks the options before anything touches the database, so that a bad one changes nothing. */
    void validate() {
    }

    abstract int run(ConnectionSettings settings) throws Exception;
}
