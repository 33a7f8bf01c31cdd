package io.incrementalloader.verify;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.load.BatchFigures;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Checks a run while it loads: every {@code chunk} documents, the batches committed since the last chunk are
 * checked on a connection of its own, in the background, while the loader goes on; when the run ends, the rest
 * (and the documents changed by hand) is checked and one verdict recorded ({@link RunCheck}). A long run so waits
 * only for the check of its last chunk: the check costs the database the same work, but the run hardly any time.
 * Each chunk reads its own snapshot after its batches committed, so what later batches do cannot disturb it.
 */
public final class RunChecker implements AutoCloseable {
    /** Documents a chunk checked in the background: large enough that its fixed cost does not matter. */
    public static final int CHUNK_DOCUMENTS = 10_000;

    private final ConnectionSettings settings;
    private final int chunkDocuments;
    private final List<Future<List<Reconciliation.Difference>>> chunks = new ArrayList<>();
    private ExecutorService background;
    private Connection connection;
    private BatchFigures checked = BatchFigures.NONE;
    private long checkedThroughBatch;
    private double seconds;

    public RunChecker(ConnectionSettings settings) {
        this(settings, CHUNK_DOCUMENTS);
    }

    RunChecker(ConnectionSettings settings, int chunkDocuments) {
        this.settings = settings;
        this.chunkDocuments = chunkDocuments;
    }

    /** Hears the run's running total after each batch; hands a chunk to the background when one is full. */
    public void afterBatch(BatchFigures total) {
        if (total.taken() - checked.taken() < chunkDocuments) {
            return;
        }
        long first = checkedThroughBatch == 0 ? total.firstBatchId() : checkedThroughBatch + 1;
        long last = total.lastBatchId();
        checked = total;
        checkedThroughBatch = last;
        if (background == null) {
            background = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, "run-check");
                thread.setDaemon(true);
                return thread;
            });
        }
        chunks.add(background.submit(() -> {
            long started = System.nanoTime();
            if (connection == null) {
                connection = settings.open();
            }
            List<Reconciliation.Difference> differences = Reconciliation.checkChunk(connection, first, last);
            synchronized (this) {
                seconds += (System.nanoTime() - started) / 1e9;
            }
            return differences;
        }));
    }

    /**
     * Checks what no chunk has (the last batches, the documents changed by hand), waits for the chunks, and records
     * the run's verdict on {@code loaderConnection}; null when there was nothing to check.
     */
    public RunCheck.Verdict finish(Connection loaderConnection, BatchFigures run) throws SQLException {
        List<Reconciliation.Difference> differences = new ArrayList<>();
        long restFirst = checkedThroughBatch == 0 ? run.firstBatchId() : checkedThroughBatch + 1;
        boolean restTaken = run.batches() > 0 && restFirst <= run.lastBatchId();
        long started = System.nanoTime();
        Reconciliation.RunFindings rest = Reconciliation.checkRun(loaderConnection,
                restTaken ? restFirst : 0, restTaken ? run.lastBatchId() : 0);
        for (Future<List<Reconciliation.Difference>> chunk : chunks) {
            try {
                differences.addAll(chunk.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while checking the run", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getCause());
            }
        }
        double afterLoad = (System.nanoTime() - started) / 1e9;
        differences.addAll(rest.differences());
        if (run.batches() == 0 && rest.lastChangeId() == 0) {
            return null;
        }
        double total;
        synchronized (this) {
            total = seconds + afterLoad;
        }
        return RunCheck.record(loaderConnection, run, rest, differences, total, afterLoad);
    }

    @Override
    public void close() {
        if (background != null) {
            background.shutdownNow();
        }
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // closing a connection that is done with: nothing to do
            }
        }
    }
}
