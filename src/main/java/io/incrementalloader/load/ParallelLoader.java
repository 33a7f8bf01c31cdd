package io.incrementalloader.load;

import io.incrementalloader.db.ConnectionSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.postgresql.PGConnection;

/**
 * Drains with K connections at once ({@code load --workers K}, {@code serve --workers K}): each runs a
 * {@link BatchLoader} of its own, and each batch takes a lane no other caller holds (V011), so the workers load K
 * lanes at once. A worker stops when its batch takes nothing: nothing is pending in a lane that no one else holds.
 * When one worker fails, the others stop after their batch in progress, and the first failure is thrown.
 */
public final class ParallelLoader {
    /** Hears every batch: the running total of all workers, and how long the batch took; one call at a time. */
    public interface Listener {
        void afterBatch(BatchFigures runTotal, double batchSeconds);
    }

    private final BatchLoader loader;
    private final int workers;
    private final Set<Connection> active = ConcurrentHashMap.newKeySet();

    public ParallelLoader(BatchLoader loader, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be positive: " + workers);
        }
        this.loader = loader;
        this.workers = workers;
    }

    public int workers() {
        return workers;
    }

    /**
     * Drains on {@code first} and on K - 1 connections of its own, opened with {@code settings} and closed before it
     * returns.
     */
    public BatchFigures drain(ConnectionSettings settings, Connection first, BooleanSupplier stop, Listener listener)
            throws SQLException {
        BatchFigures[] totals = new BatchFigures[workers];
        long[] lastBatchEnded = new long[workers];
        Arrays.fill(totals, BatchFigures.NONE);
        Arrays.fill(lastBatchEnded, System.nanoTime());
        if (workers == 1) {
            return worker(first, stop, totals, lastBatchEnded, 0, listener);
        }
        AtomicBoolean failed = new AtomicBoolean();
        BooleanSupplier stopAll = () -> failed.get() || stop.getAsBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(workers - 1, task -> {
            Thread thread = new Thread(task, "load-worker");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<BatchFigures>> others = new ArrayList<>();
            for (int i = 1; i < workers; i++) {
                int worker = i;
                others.add(pool.submit(() -> {
                    try (Connection connection = settings.open()) {
                        return worker(connection, stopAll, totals, lastBatchEnded, worker, listener);
                    } catch (SQLException | RuntimeException e) {
                        failed.set(true);
                        throw e;
                    }
                }));
            }
            Exception failure = null;
            try {
                worker(first, stopAll, totals, lastBatchEnded, 0, listener);
            } catch (SQLException | RuntimeException e) {
                failed.set(true);
                failure = e;
            }
            for (Future<BatchFigures> other : others) {
                try {
                    other.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failed.set(true);
                    failure = failure == null ? new SQLException("interrupted while loading", e) : failure;
                } catch (ExecutionException e) {
                    failure = failure == null ? (Exception) e.getCause() : failure;
                }
            }
            if (failure instanceof SQLException sql) {
                throw sql;
            }
            if (failure instanceof RuntimeException runtime) {
                throw runtime;
            }
            synchronized (totals) {
                return sum(totals);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private BatchFigures worker(Connection connection, BooleanSupplier stop, BatchFigures[] totals,
                                long[] lastBatchEnded, int worker, Listener listener) throws SQLException {
        active.add(connection);
        try {
            return loader.drain(connection, stop, total -> {
                synchronized (totals) {
                    long now = System.nanoTime();
                    double seconds = (now - lastBatchEnded[worker]) / 1e9;
                    lastBatchEnded[worker] = now;
                    totals[worker] = total;
                    listener.afterBatch(sum(totals), seconds);
                }
            });
        } finally {
            active.remove(connection);
        }
    }

    /**
     * Cancels the statements the workers are waiting on (a batch blocked on a lock, a long batch): their
     * transactions roll back, and the drain ends. Safe from any thread.
     */
    public void cancel() throws SQLException {
        for (Connection connection : active) {
            connection.unwrap(PGConnection.class).cancelQuery();
        }
    }

    private static BatchFigures sum(BatchFigures[] totals) {
        BatchFigures sum = BatchFigures.NONE;
        for (BatchFigures total : totals) {
            sum = sum.plus(total);
        }
        return sum;
    }
}
