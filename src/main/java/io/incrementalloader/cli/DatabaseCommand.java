package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
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
        if (readsOnly()) {
            Migrations.requireCurrent(settings);
        } else {
            Migrations.apply(settings);
        }
        return run(settings);
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
