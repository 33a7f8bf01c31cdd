package io.incrementalloader.testing;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A migrated database of the test class's own on the run's {@link PostgresServer}, emptied before each test
 * (with TRUNCATE, not rollbacks: load_batch commits, and tests use several sessions), dropped after the class.
 * Register it with {@code @RegisterExtension static TestDatabase db = new TestDatabase();}.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, ParameterResolver {
    /** The running totals, summed over the lanes: loaded, rejected, duplicates. */
    public static final String TOTALS = "select sum(loaded_documents)::bigint, sum(rejected_documents)::bigint,"
            + " sum(duplicate_documents)::bigint from test_mv.load_metadata";

    private final boolean citus;
    private ConnectionSettings settings;

    /** A database on the run's PostgreSQL. */
    public TestDatabase() {
        this(false);
    }

    private TestDatabase(boolean citus) {
        this.citus = citus;
    }

    /**
     * A database on the run's Citus cluster ({@link CitusCluster}), made on every node and migrated on the
     * coordinator, so laid out distributed; the class's tests are skipped where Citus cannot run.
     */
    public static TestDatabase onCitus() {
        return new TestDatabase(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        String name = context.getRequiredTestClass().getSimpleName();
        settings = citus ? CitusCluster.get().createDatabase(name) : PostgresServer.get().createDatabase(name);
        Migrations.apply(settings);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (settings == null) {
            return; // skipped: no cluster here
        }
        if (citus) {
            CitusCluster.get().dropDatabase(settings);
        } else {
            PostgresServer.get().dropDatabase(settings);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        reset();
    }

    /** Empties every table and puts the loader back at the start, as if nothing had ever been loaded. */
    public void reset() {
        execute("truncate " + (citus ? "test_mv.landed_documents" : "public.fake_json_request") + ", test_mv.clients, test_mv.phones, test_mv.addresses,"
                + " test_mv.products, test_mv.load_batches, test_mv.load_errors, test_mv.load_duplicates restart identity;"
                // After the TRUNCATE above, which its triggers note as a change: a test starts with nothing to check.
                + " truncate test_mv.changed_documents, test_mv.run_checks, test_mv.failed_runs restart identity;"
                + " update test_mv.run_health set consecutive_failures = 0, last_failure_id = null,"
                + " last_success_at = null;"
                + " update test_mv.load_metadata set last_xid = '0', last_request_id = 0, last_date = null,"
                + " last_hash = null, last_batch_id = null, updated_at = now(), loaded_documents = 0,"
                + " rejected_documents = 0, duplicate_documents = 0;"
                + " update test_mv.load_control set paused_at = null, paused_by = null, reason = null,"
                + " pruned_documents = 0, safety_net_limit = 20,"
                + " safety_net_streak = 0, safety_net_error = null, safety_net_batch_id = null; truncate test_mv.pruned_ranges, test_mv.pruned_documents restart identity");
    }

    public ConnectionSettings settings() {
        return settings;
    }

    /** A new autocommit connection; the caller closes it. */
    public Connection connect() {
        return settings.open();
    }

    public void execute(String sql) {
        try (Connection connection = connect(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    public long count(String sqlReturningOneNumber) {
        return Long.parseLong(String.valueOf(queryOne(sqlReturningOneNumber)));
    }

    public Object queryOne(String sql) {
        List<List<Object>> rows = query(sql);
        if (rows.size() != 1) {
            throw new IllegalStateException(sql + " returned " + rows.size() + " rows");
        }
        return rows.get(0).get(0);
    }

    public List<List<Object>> query(String sql) {
        try (Connection connection = connect(); Statement statement = connection.createStatement();
             ResultSet resultSet = statement.executeQuery(sql)) {
            List<List<Object>> rows = new ArrayList<>();
            int columns = resultSet.getMetaData().getColumnCount();
            while (resultSet.next()) {
                List<Object> row = new ArrayList<>();
                for (int c = 1; c <= columns; c++) {
                    row.add(resultSet.getObject(c));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} with a jOOQ context on a fresh connection. */
    public <T> T jooq(java.util.function.Function<DSLContext, T> work) {
        try (Connection connection = connect()) {
            return work.apply(DSL.using(connection, SQLDialect.POSTGRES));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A producer: lands the documents with plain SQL in transactions of {@code size}, each kept open
     * {@code holdMillis} before its commit (a slow producer, when above zero); returns how many it landed.
     */
    public java.util.concurrent.Callable<Integer> producer(List<String> documents, int size, long holdMillis) {
        return () -> {
            try (Connection connection = connect();
                 var insert = connection.prepareStatement("insert into public.fake_json_request (stage) values (?::jsonb)")) {
                connection.setAutoCommit(false);
                for (int from = 0; from < documents.size(); from += size) {
                    for (String document : documents.subList(from, Math.min(from + size, documents.size()))) {
                        insert.setString(1, document);
                        insert.addBatch();
                    }
                    insert.executeBatch();
                    Thread.sleep(holdMillis);
                    connection.commit();
                }
            }
            return documents.size();
        };
    }

    /** Lands documents with plain SQL, as any producer would, in one transaction. */
    public void land(String... documents) {
        insertJson("fake_json_request (stage)", java.util.Arrays.asList(documents));
    }

    /** Inserts the JSON documents, one row each, into a table's single jsonb column (e.g. "t (document)"). */
    public void insertJson(String tableAndColumn, List<String> documents) {
        try (Connection connection = connect();
             var insert = connection.prepareStatement("insert into " + tableAndColumn + " values (?::jsonb)")) {
            for (String document : documents) {
                insert.setString(1, document);
                insert.addBatch();
            }
            insert.executeBatch();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Lands {@code count} documents of the generator (seed, shares of duplicates and malformed ones) through the
     * importer, in one transaction; returns them as the generator wrote them, a JSON array.
     */
    public byte[] landGenerated(long seed, int count, double duplicateShare, double malformedShare) {
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        try (Connection connection = connect()) {
            new io.incrementalloader.generate.DocumentGenerator(seed, duplicateShare, malformedShare).write(count, file);
            new io.incrementalloader.load.DocumentImporter().importStream(connection,
                    new java.io.ByteArrayInputStream(file.toByteArray()), "generated", n -> { });
        } catch (SQLException | java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return file.toByteArray();
    }

    /** Lands {@code count} small well-formed documents, application_id 0, 1, 2, ... */
    public void landNumbered(int count) {
        landNumbered(0, count);
    }

    /** Lands {@code count} distinct small well-formed documents, application_id from, from + 1, ... */
    public void landNumbered(int from, int count) {
        String[] documents = new String[count];
        for (int i = 0; i < count; i++) {
            documents[i] = "{\"application_id\": " + (from + i) + ", \"phones\": [{\"mobile\": \"0" + (from + i) + "\"}]}";
        }
        land(documents);
    }

    /** CALLs load_batch(batchSize) in a DO loop, committing after each, until a call takes nothing. */
    public void loadAll(int batchSize) {
        execute("do $$ declare v_before bigint; begin loop"
                + " select max(last_batch_id) into v_before from test_mv.load_metadata;"
                + " call load_batch(" + batchSize + "); commit;"
                + " exit when (select max(last_batch_id) from test_mv.load_metadata) is not distinct from v_before;"
                + " end loop; end $$");
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return this;
    }
}
