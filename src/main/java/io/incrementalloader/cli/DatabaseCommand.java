package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import picocli.CommandLine.Mixin;

/** A command that works on the database: it applies the migrations first, as the contract promises. */
abstract class DatabaseCommand extends ReportingCommand {
    @Mixin
    ConnectionOptions connection;

    @Override
    public final Integer call() throws Exception {
        validate();
        ConnectionSettings settings = connection.settings();
        Migrations.apply(settings);
        return run(settings);
    }

    /** Checks the options before anything touches the database, so that a bad one changes nothing. */
    void validate() {
    }

    abstract int run(ConnectionSettings settings) throws Exception;
}
