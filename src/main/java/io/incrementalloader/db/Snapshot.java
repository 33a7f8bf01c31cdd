package io.incrementalloader.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * Reads that must agree with each other run in one read-only repeatable-read transaction: one snapshot, so that a
 * load committing meanwhile cannot make two of them disagree. Its search_path holds pg_catalog alone, so that no
 * function planted in a schema someone else can write to stands in for a built-in that a query calls by name.
 */
public final class Snapshot {
    /** What reads in the snapshot. */
    public interface Reads<T> {
        T read(DSLContext sql) throws SQLException;
    }

    private Snapshot() {
    }

    /** Runs {@code reads} in one snapshot, after the extra {@code settings} (SET LOCAL statements); rolls back. */
    public static <T> T read(Connection connection, Reads<T> reads, String... settings) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        int isolation = connection.getTransactionIsolation();
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        connection.setReadOnly(true);
        try (Statement set = connection.createStatement()) {
            set.execute("set local search_path = pg_catalog, pg_temp");
            for (String setting : settings) {
                set.execute(setting);
            }
            return reads.read(DSL.using(connection, SQLDialect.POSTGRES));
        } finally {
            connection.rollback();
            connection.setReadOnly(false);
            connection.setTransactionIsolation(isolation);
            connection.setAutoCommit(autoCommit);
        }
    }
}
