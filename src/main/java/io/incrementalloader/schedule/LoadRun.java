package io.incrementalloader.schedule;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.load.LoadingPause;
import io.incrementalloader.load.ParallelLoader;
import io.incrementalloader.load.RunHealth;
import io.incrementalloader.verify.RunCheck;
import io.incrementalloader.verify.RunChecker;
import io.incrementalloader.verify.RunLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scheduled run: drain what is pending with K connections (workers), in transactions of batch-size documents,
 * and log one line with the figures. Runs of several instances, like the workers of one, share the work: each batch
 * takes a lane that no other caller holds (V011), without waiting for a held one.
 */
public final class LoadRun implements Job {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.serve");

    private final ConnectionSettings settings;
    private final ParallelLoader loader;
    private final BooleanSupplier stopping;
    private final RunObserver observer;
    private boolean migrated;
    private volatile Connection active;
    /** What the run's committed batches did so far. */
    private volatile BatchFigures progress = BatchFigures.NONE;

    public LoadRun(ConnectionSettings settings, int batchSize, BooleanSupplier stopping) {
        this(settings, batchSize, false, 1, stopping, RunObserver.NONE);
    }

    /**
     * With asyncCommit, batches commit without waiting for the disk (see {@link BatchLoader}); with K workers, K
     * connections load at once ({@link ParallelLoader}); the observer hears every batch and every run.
     */
    public LoadRun(ConnectionSettings settings, int batchSize, boolean asyncCommit, int workers,
                   BooleanSupplier stopping, RunObserver observer) {
        this.settings = settings;
        this.loader = new ParallelLoader(new BatchLoader(batchSize, asyncCommit), workers);
        this.stopping = stopping;
        this.observer = observer;
    }

    @Override
    public RunOutcome get() {
        progress = BatchFigures.NONE;
        RunOutcome outcome = load();
        observer.run(outcome, progress);
        return outcome;
    }

    private void afterBatch(BatchFigures total, double seconds, RunChecker checker) {
        observer.batch(seconds);
        progress = total;
        // The background check of a chunk takes the batches up to the last one committed; with several workers a
        // batch of a lower id may still be in progress then, so their run is checked whole, when it ends.
        if (loader.workers() == 1) {
            checker.afterBatch(total);
        }
    }

    private RunOutcome load() {
        long started = System.nanoTime();
        try {
            if (!migrated) {
                Migrations.apply(settings);
                migrated = true;
            }
            try (Connection connection = settings.open(); RunChecker checker = new RunChecker(settings)) {
                active = connection;
                LoadingPause pause = LoadingPause.current(connection);
                if (pause != null) {
                    log.info("run paused: {}; nothing taken (resume: the resume command, or CALL resume_loading())",
                            pause.describe());
                    return RunOutcome.PAUSED;
                }
                BatchFigures figures = loader.drain(settings, connection, stopping,
                        (total, seconds) -> afterBatch(total, seconds, checker));
                double seconds = Elapsed.secondsSince(started);
                String done = String.format("run done: %s in %.2f s (%d documents/s)", figures, seconds,
                        Math.round(figures.taken() / Math.max(seconds, 1e-9)));
                if (stopping.getAsBoolean()) {
                    RunLog.withFigures(log.atInfo(), figures, seconds).log("{}; stopped early, not checked", done);
                    return RunOutcome.DONE;
                }
                RunCheck.Verdict verdict = checker.finish(connection, figures);
                RunHealth.success(connection);
                if (verdict == null) {
                    RunLog.withFigures(log.atInfo(), figures, seconds).log(done);
                } else if (verdict.sound()) {
                    RunLog.withVerdict(RunLog.withFigures(log.atInfo(), figures, seconds), verdict).log("{}; {}", done, verdict);
                } else {
                    RunLog.withVerdict(RunLog.withFigures(log.atError(), figures, seconds), verdict)
                            .log("{}; {} (kept in test_mv.run_checks; run verify)", done, verdict);
                }
                return RunOutcome.DONE;
            }
        } catch (RuntimeException | SQLException e) {
            if (stopping.getAsBoolean() && "57014".equals(RunHealth.sqlState(e))) {
                log.info("run stopped: the batch in progress was cancelled and rolled back");
            } else {
                int failures = RunHealth.failure(settings, e);
                RunLog.withFailure(log.atWarn().addKeyValue("consecutiveFailures", failures), e)
                        .log("run failed: {}{}", RunHealth.message(e),
                                failures == 0 ? "" : " (" + failures + " consecutive failed run(s))");
            }
            return RunOutcome.FAILED;
        } finally {
            active = null;
        }
    }

    /**
     * Cancels the statement the run is waiting on, if any (a batch blocked on a lock, a long batch): its transaction
     * rolls back, and the run ends. Safe from any thread; does nothing between runs.
     */
    @Override
    public void cancel() {
        Connection connection = active;
        if (connection != null) {
            try {
                connection.unwrap(PGConnection.class).cancelQuery();
                loader.cancel();
            } catch (SQLException e) {
                log.warn("cannot cancel the batch in progress: {}", RunHealth.message(e));
            }
        }
    }

    /** A run's figures as a log line's fields, for --log-format json. */


}
