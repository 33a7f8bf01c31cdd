package io.incrementalloader.schedule;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.load.LoadingPause;
import io.incrementalloader.load.RunHealth;
import io.incrementalloader.verify.RunCheck;
import io.incrementalloader.verify.RunChecker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One scheduled run: drain what is pending, in transactions of batch-size documents, and log one line with the
 * figures. Runs of several instances never overlap: a run first takes a session-level advisory lock, and an
 * instance that cannot get it at once skips the tick instead of queueing behind the other (no lock storm).
 */
public final class LoadRun implements Job {
    /** The advisory lock key that serve instances share ("ILOADER" in ASCII). */
    public static final long SERVE_LOCK_KEY = 0x494C4F41444552L;

    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.serve");

    private final ConnectionSettings settings;
    private final BatchLoader loader;
    private final BooleanSupplier stopping;
    private final RunObserver observer;
    private boolean migrated;
    private volatile Connection active;
    /** What the run's committed batches did so far, and when the batch in progress started. */
    private BatchFigures progress = BatchFigures.NONE;
    private long batchStarted;

    public LoadRun(ConnectionSettings settings, int batchSize, BooleanSupplier stopping) {
        this(settings, batchSize, false, stopping, RunObserver.NONE);
    }

    /**
     * With asyncCommit, batches commit without waiting for the disk (see {@link BatchLoader}); the observer hears
     * every batch and every run.
     */
    public LoadRun(ConnectionSettings settings, int batchSize, boolean asyncCommit, BooleanSupplier stopping,
                   RunObserver observer) {
        this.settings = settings;
        this.loader = new BatchLoader(batchSize, asyncCommit);
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

    private void afterBatch(BatchFigures total, RunChecker checker) {
        long now = System.nanoTime();
        observer.batch((now - batchStarted) / 1e9);
        batchStarted = now;
        progress = total;
        checker.afterBatch(total);
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
                if (!tryLock(connection)) {
                    log.info("run skipped: another instance is loading");
                    return RunOutcome.SKIPPED;
                }
                LoadingPause pause = LoadingPause.current(connection);
                if (pause != null) {
                    log.info("run paused: {}; nothing taken (resume: the resume command, or CALL resume_loading())",
                            pause.describe());
                    return RunOutcome.PAUSED;
                }
                batchStarted = System.nanoTime();
                BatchFigures figures = loader.drain(connection, stopping, total -> afterBatch(total, checker));
                double seconds = Elapsed.secondsSince(started);
                String done = String.format("run done: %s in %.2f s (%d documents/s)", figures, seconds,
                        Math.round(figures.taken() / Math.max(seconds, 1e-9)));
                if (stopping.getAsBoolean()) {
                    withFigures(log.atInfo(), figures, seconds).log("{}; stopped early, not checked", done);
                    return RunOutcome.DONE;
                }
                RunCheck.Verdict verdict = checker.finish(connection, figures);
                RunHealth.success(connection);
                if (verdict == null) {
                    withFigures(log.atInfo(), figures, seconds).log(done);
                } else if (verdict.sound()) {
                    withVerdict(withFigures(log.atInfo(), figures, seconds), verdict).log("{}; {}", done, verdict);
                } else {
                    withVerdict(withFigures(log.atError(), figures, seconds), verdict)
                            .log("{}; {} (kept in test_mv.run_checks; run verify)", done, verdict);
                }
                // Closing the connection releases the advisory lock.
                return RunOutcome.DONE;
            }
        } catch (RuntimeException | SQLException e) {
            if (stopping.getAsBoolean() && "57014".equals(RunHealth.sqlState(e))) {
                log.info("run stopped: the batch in progress was cancelled and rolled back");
            } else {
                int failures = RunHealth.failure(settings, e);
                log.atWarn().addKeyValue("consecutiveFailures", failures).addKeyValue("sqlstate", RunHealth.sqlState(e))
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
            } catch (SQLException e) {
                log.warn("cannot cancel the batch in progress: {}", RunHealth.message(e));
            }
        }
    }

    private static boolean tryLock(Connection connection) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement("select pg_try_advisory_lock(?)")) {
            lock.setLong(1, SERVE_LOCK_KEY);
            try (ResultSet row = lock.executeQuery()) {
                row.next();
                return row.getBoolean(1);
            }
        }
    }

    /** A run's figures as a log line's fields, for --log-format json. */
    private static LoggingEventBuilder withFigures(LoggingEventBuilder line, BatchFigures figures, double seconds) {
        return line.addKeyValue("documents", figures.taken()).addKeyValue("batches", figures.batches())
                .addKeyValue("loaded", figures.loaded()).addKeyValue("rejected", figures.rejected())
                .addKeyValue("duplicates", figures.duplicates()).addKeyValue("phones", figures.phones())
                .addKeyValue("addresses", figures.addresses()).addKeyValue("products", figures.products())
                .addKeyValue("seconds", seconds);
    }

    private static LoggingEventBuilder withVerdict(LoggingEventBuilder line, RunCheck.Verdict verdict) {
        return line.addKeyValue("check", verdict.sound() ? "sound" : "different")
                .addKeyValue("checkSeconds", verdict.seconds())
                .addKeyValue("checkSecondsAfterLoad", verdict.afterLoadSeconds());
    }


}
