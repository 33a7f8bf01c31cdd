package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "migrate", description = "Apply the migrations in db/ to the database.")
final class MigrateCommand extends ReportingCommand {
    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() {
        ConnectionSettings settings = connection.settings();
        int applied = Migrations.apply(settings);
        out().println(applied == 0 ? "The schema is up to date." : "Applied " + applied + " migrations.");
        return 0;
    }
}
