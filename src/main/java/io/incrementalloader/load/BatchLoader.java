package io.incrementalloader.load;

import io.incrementalloader.UserError;
import io.incrementalloader.Printable;
import io.incrementalloader.db.CitusLayout;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_BATCHES;

import io.incrementalloader.generated.test_mv.Routines;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * Drives {@code load_batch} from Java: one transaction per batch, until nothing is pending. It calls
 * {@code test_mv.load_next_batch}, the function behind the procedure, because it returns the batch's figures.
 */
public final class BatchLoader {
    /**
     * How long a batch waits for a lock (the positions' table locked by a migration or a DBA's {@code LOCK TABLE}; a
     * lane another session holds is passed over, never waited for): then it fails, naming the holders, instead of
     * hanging silently until they end.
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
        boolean citus = CitusLayout.isLaidOut(connection);
        // The call is written by jOOQ's generated routine, once, and run as a plain prepared statement: through
        // jOOQ's execution each call cost ~2 ms more, a fifth of a batch of 100 (docs/performance.md). On Citus, a
        // lane's batch is called by its lane, so that Citus runs it on the worker that holds the lane (load_lane,
        // distributed by it; db/citus/loading.sql).
        String callSql = citus ? "select * from test_mv.load_lane(?, ?, ?, ?)" : DSL.using(SQLDialect.POSTGRES).render(
                DSL.selectFrom(DSL.table("{0}", Routines.loadNextBatch(DSL.param("batch_size", batchSize)))));
        CitusLanes lanes = new CitusLanes();
        try (PreparedStatement call = connection.prepareStatement(callSql);
             PreparedStatement nextId = connection.prepareStatement("select test_mv.draw_batch_id()")) {
            call.setInt(citus ? 2 : 1, batchSize);
            if (citus) {
                call.setString(3, caller(connection));
            }
            while (!stop.getAsBoolean()) {
                BatchFigures batch;
                if (citus) {
                    // The batch id from the coordinator's sequence, drawn first: a call whose argument calls a
                    // function is not delegated to the lane's worker.
                    call.setInt(1, lanes.next());
                    try (ResultSet id = nextId.executeQuery()) {
                        id.next();
                        call.setLong(4, id.getLong(1));
                    }
                }
                try (ResultSet row = call.executeQuery()) {
                    row.next();
                    if (row.getObject(LOAD_BATCHES.BATCH_ID.getName()) == null) { // nothing was pending
                        if (citus && lanes.tookNothing()) {
                            continue;
                        }
                        break;
                    }
                    batch = new BatchFigures(1, row.getInt(LOAD_BATCHES.TAKEN.getName()),
                            row.getInt(LOAD_BATCHES.LOADED.getName()), row.getInt(LOAD_BATCHES.REJECTED.getName()),
                            row.getInt(LOAD_BATCHES.DUPLICATES.getName()), row.getInt(LOAD_BATCHES.PHONES.getName()),
                            row.getInt(LOAD_BATCHES.ADDRESSES.getName()), row.getInt(LOAD_BATCHES.PRODUCTS.getName()),
                            row.getLong(LOAD_BATCHES.BATCH_ID.getName()), row.getLong(LOAD_BATCHES.BATCH_ID.getName()));
                } catch (SQLException e) {
                    if ("55P03".equals(e.getSQLState())) {
                        throw new UserError("The positions (test_mv.load_metadata) stayed locked for " + LOCK_TIMEOUT
                                + " by " + positionHolders(connection) + ". End that transaction (COMMIT or ROLLBACK,"
                                + " or pg_terminate_backend(pid)) and load again.");
                    }
                    throw e;
                }
                total = total.plus(batch);
                lanes.took(batch.taken() == batchSize);
                afterBatch.accept(total);
            }
        }
        return total;
    }

    /** This session as the run history names a caller: "application (pid N)", N its pid on the coordinator. */
    private static String caller(Connection connection) throws SQLException {
        try (Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select coalesce(nullif(pg_catalog.current_setting('application_name'), ''),"
                     + " 'unnamed') || ' (pid ' || pg_catalog.pg_backend_pid() || ')'")) {
            row.next();
            return row.getString(1);
        }
    }

    /** The sessions that hold a lock on the position, as a person reads them (test_mv.position_holders). */
    static String positionHolders(Connection connection) {
        String holders = Routines.positionHolders(DSL.using(connection, SQLDialect.POSTGRES).configuration());
        return holders == null ? "a session that has since ended" : Printable.of(holders);
    }
}
