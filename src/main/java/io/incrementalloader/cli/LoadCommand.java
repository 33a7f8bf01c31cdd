package io.incrementalloader.cli;

import static io.incrementalloader.generated.test_mv.Tables.PENDING;

import io.incrementalloader.Elapsed;
import io.incrementalloader.LogFormat;
import io.incrementalloader.Printable;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.generated.test_mv.Routines;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.load.LoadingPause;
import io.incrementalloader.load.ParallelLoader;
import io.incrementalloader.load.RunHealth;
import io.incrementalloader.verify.Reconciliation;
import io.incrementalloader.verify.RunCheck;
import io.incrementalloader.verify.RunChecker;
import io.incrementalloader.verify.RunLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "load", description = "One run: call load_batch(N) until nothing is pending, then check what the run wrote; exit 1 on a "
        + "difference.")
final class LoadCommand extends DatabaseCommand {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.load");

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100", description = "Documents a batch (default 100).")
    int batchSize;

    @Option(names = "--async-commit", description = BatchOptions.ASYNC_COMMIT_DESCRIPTION)
    boolean asyncCommit;

    @Option(names = "--workers", paramLabel = "K", defaultValue = "1", description = BatchOptions.WORKERS_DESCRIPTION)
    int workers;

    @Override
    void validate() {
        BatchOptions.check(batchSize);
        BatchOptions.checkWorkers(workers);
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        long started = System.nanoTime();
        try (Connection connection = settings.open(); RunChecker checker = new RunChecker(settings)) {
            LoadingPause pause = LoadingPause.current(connection);
            if (pause != null) {
                out().println("Nothing loaded: " + pause.describe() + ". Resume with: resume");
                return 0;
            }
            BatchFigures figures;
            RunCheck.Verdict verdict;
            try {
                try (Progress progress = new Progress("loading")) {
                    ParallelLoader loader = new ParallelLoader(new BatchLoader(batchSize, asyncCommit), workers);
                    figures = loader.drain(settings, connection, () -> false, (total, seconds) -> {
                        progress.show(total.taken());
                        // With several workers a batch of a lower id may be in progress when a chunk would be
                        // handed to the background check: their run is checked whole, when it ends.
                        if (workers == 1) {
                            checker.afterBatch(total);
                        }
                    });
                }
                double seconds = Elapsed.secondsSince(started);
                out().printf("Loaded %s in %.1f s.%n", figures, seconds);
                if (figures.taken() == 0) {
                    whyNothingWasTaken(connection).ifPresent(out()::println);
                }
                verdict = checker.finish(connection, figures);
                RunHealth.success(connection);
                if (LogFormat.active() == LogFormat.JSON) { // the report above is for people; this line for collectors
                    var line = RunLog.withFigures(log.atInfo(), figures, seconds);
                    (verdict == null ? line : RunLog.withVerdict(line, verdict)).log("run done");
                }
            } catch (SQLException | RuntimeException e) {
                RunHealth.failure(settings, e); // kept in test_mv.failed_runs; the error itself is reported as usual
                throw e;
            }
            if (verdict == null) {
                return 0;
            }
            if (verdict.sound()) {
                out().printf("Checked: the rows are what the documents map to, and each document has one outcome"
                        + " (%s, %.2f s, %.2f s of it after the load).%n", verdict.covered(), verdict.seconds(),
                        verdict.afterLoadSeconds());
                return 0;
            }
            err().printf("error: rows differ from what their documents map to (%s). The batches are committed;"
                    + " the verdict is in test_mv.run_checks. Run verify for the whole database.%n", verdict.covered());
            for (Reconciliation.Difference difference : verdict.differences()) {
                err().println("DIFFERENT " + difference);
            }
            return LoaderCommand.CHECK_FAILED;
        }
    }

    /**
     * When documents are pending and the run took none: the sessions holding their lanes (other loaders, or a
     * session that locked them), or the landing transaction they wait for.
     */
    private static Optional<String> whyNothingWasTaken(Connection connection) {
        var sql = DSL.using(connection, SQLDialect.POSTGRES);
        Long pending = sql.select(DSL.field("documents", Long.class))
                .from(PENDING.call()).fetchOne(0, Long.class);
        if (pending == null || pending == 0) {
            return Optional.empty();
        }
        String holders = Routines.positionHolders(sql.configuration());
        if (holders != null) {
            return Optional.of("Nothing taken: the lanes with documents pending are held by " + Printable.of(holders)
                    + " (a lane is loaded by one session at a time).");
        }
        String heldBackBy = Routines.heldBackBy(sql.configuration());
        return heldBackBy == null ? Optional.empty() : Optional.of("Nothing taken: the " + pending
                + " document(s) pending landed after a landing transaction still open, which holds them back: "
                + Printable.of(heldBackBy) + ".");
    }
}
