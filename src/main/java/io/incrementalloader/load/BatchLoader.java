package io.incrementalloader.load;

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
        if (asyncCommit) {
            try (Statement set = connection.createStatement()) {
                set.execute("set synchronous_commit = off");
            }
        }
        try (PreparedStatement call = connection.prepareStatement(
                "select taken, loaded, rejected, duplicates, phones, addresses, products"
                        + " from test_mv.load_next_batch(?)")) {
            call.setInt(1, batchSize);
            while (!stop.getAsBoolean()) {
                BatchFigures batch = nextBatch(call);
                if (batch == null) {
                    break;
                }
                total = total.plus(batch);
                afterBatch.accept(total);
            }
        }
        return total;
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
