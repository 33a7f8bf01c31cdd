package io.incrementalloader.load;

import io.incrementalloader.UserError;
import io.incrementalloader.Printable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Drives {@code load_batch} from Java: one transaction per batch, until nothing is pending. It calls
 * {@code test_mv.load_next_batch}, the function behind the procedure, because it returns the batch's figures.
 */
public final class BatchLoader {
    /**
     * How long a batch waits for the position when another session holds it (a DBA's open {@code BEGIN; CALL
     * load_batch(100);}): then it fails, naming the holder, instead of hanging silently until the holder ends.
     */
    public static final String LOCK_TIMEOUT = "30s";

    private final int batchSize;
    private final boolean asyncCommit;

    public BatchLoader(int batchSize) {
        this(batchSize, false);
    }

    /**
     * With asyncCommit, each batch commits without waiting for its WAL to reach the disk (synchronous_commit off,
     * for the loading connection only). A crash may then undo the last batches (those of the last ~0.6 s); as a
     * batch moves its rows and the position together and the documents stay landed, the next run loads them again,
     * each once. At batch 100 that wait is 5-12% of the time (README, Performance).
     */
    public BatchLoader(int batchSize, boolean asyncCommit) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive: " + batchSize);
        }
        this.batchSize = batchSize;
        this.asyncCommit = asyncCommit;
    }

    /**
     * Loads batches until one takes nothing or {@code stop} says so; the connection must be in autocommit mode.
     * {@code afterBatch} hears the running total after every batch.
     */
    public BatchFigures drain(Connection connection, BooleanSupplier stop, Consumer<BatchFigures> afterBatch)
            throws SQLException {
        BatchFigures total = BatchFigures.NONE;
        try (Statement set = connection.createStatement()) {
            set.execute("set lock_timeout = '" + LOCK_TIMEOUT + "'");
            if (asyncCommit) {
                set.execute("set synchronous_commit = off");
            }
        }
        try (PreparedStatement call = connection.prepareStatement(
                "select taken, loaded, rejected, duplicates, phones, addresses, products"
                        + " from test_mv.load_next_batch(?)")) {
            call.setInt(1, batchSize);
            while (!stop.getAsBoolean()) {
                BatchFigures batch;
                try {
                    batch = nextBatch(call);
                } catch (SQLException e) {
                    if ("55P03".equals(e.getSQLState())) {
                        throw new UserError("The position (test_mv.load_metadata) stayed locked for " + LOCK_TIMEOUT
                                + " by " + positionHolders(connection) + ". End that transaction (COMMIT or ROLLBACK,"
                                + " or pg_terminate_backend(pid)) and load again.");
                    }
                    throw e;
                }
                if (batch == null) {
                    break;
                }
                total = total.plus(batch);
                afterBatch.accept(total);
            }
        }
        return total;
    }

    /** The sessions of this database that hold a lock on the position, as a person reads them. */
    static String positionHolders(Connection connection) throws SQLException {
        try (Statement query = connection.createStatement();
             ResultSet rows = query.executeQuery("""
                     select string_agg(format('pid %s (%s, %s, transaction open since %s)', a.pid,
                                              coalesce(nullif(a.application_name, ''), 'unnamed'), a.state,
                                              date_trunc('second', a.xact_start)), '; ')
                       from pg_catalog.pg_locks l
                       join pg_catalog.pg_stat_activity a on a.pid = l.pid
                      where l.relation = 'test_mv.load_metadata'::pg_catalog.regclass and l.granted
                        and l.pid <> pg_catalog.pg_backend_pid()""")) {
            rows.next();
            String holders = rows.getString(1);
            return holders == null ? "a session that has since ended" : Printable.of(holders);
        }
    }

    private static BatchFigures nextBatch(PreparedStatement call) throws SQLException {
        try (ResultSet row = call.executeQuery()) {
            row.next();
            int taken = row.getInt("taken");
            if (row.wasNull()) {
                return null;
            }
            return new BatchFigures(1, taken, row.getInt("loaded"), row.getInt("rejected"),
                    row.getInt("duplicates"), row.getInt("phones"), row.getInt("addresses"), row.getInt("products"));
        }
    }
}
