package io.incrementalloader.bench;

import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.db.ScratchDatabase;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.load.DocumentImporter;
import io.incrementalloader.load.ParallelLoader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * The loader on a Citus cluster against the same work on one server, in the same run ({@code bench --citus URL}):
 * the same documents, loaded by K callers of the service's loop (load --workers K) at one batch size, on a scratch
 * database of each. On the cluster the scratch database is made on the coordinator and on every worker the
 * coordinator's database names in pg_dist_node, with the citus extension, and the workers added: what a DBA does
 * (docs/scale-out.md). Landing is not timed. One server and the cluster take turns, run by run, so that what else
 * the machine does meanwhile weighs on both alike.
 */
public final class CitusBench {
    private final ConnectionSettings server;
    private final ConnectionSettings coordinator;
    private final String database;
    private final int documents;
    private final int runs;
    private final List<Integer> batchSizes;
    private final List<Integer> callers;
    private final PrintWriter out;

    public CitusBench(ConnectionSettings server, ConnectionSettings coordinator, String database, int documents, int runs,
                      List<Integer> batchSizes, List<Integer> callers, PrintWriter out) {
        this.server = server;
        this.coordinator = coordinator;
        this.database = database;
        this.documents = documents;
        this.runs = runs;
        this.batchSizes = batchSizes;
        this.callers = callers;
        this.out = out;
    }

    public void run() throws Exception {
        ConnectionSettings single = ScratchDatabase.recreate(server, database, "bench");
        Migrations.apply(single);
        ConnectionSettings cluster = scratchCluster();
        Migrations.apply(cluster);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        new DocumentGenerator(2026, 0.1, 0.05).write(documents, file);
        byte[] json = file.toByteArray();
        out.printf("incremental-loader on Citus: %,d documents, %d runs each, one server %s against the cluster %s"
                + " (%d workers)%n%n", documents, runs, single, cluster, workers(cluster).size());
        out.printf("%-6s %-8s %16s %16s %10s%n", "batch", "callers", "one server doc/s", "Citus doc/s", "Citus/one");
        for (int batchSize : batchSizes) {
            for (int k : callers) {
                List<Double> one = new ArrayList<>();
                List<Double> citus = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    // Turn about, so that neither always runs while the other's background work (a checkpoint,
                    // autovacuum) goes on.
                    if (r % 2 == 0) {
                        one.add(documents / timedLoad(single, false, json, k, batchSize));
                        citus.add(documents / timedLoad(cluster, true, json, k, batchSize));
                    } else {
                        citus.add(documents / timedLoad(cluster, true, json, k, batchSize));
                        one.add(documents / timedLoad(single, false, json, k, batchSize));
                    }
                }
                double a = median(one);
                double b = median(citus);
                out.printf("%-6d %-8d %,16.0f %,16.0f %10.2f%n", batchSize, k, a, b, b / a);
                out.flush();
            }
        }
        out.printf("%nMedians of the runs; each run lands the documents afresh (untimed) and loads them all with k"
                + " callers (the service's loop, as load --workers k).%n");
    }

    /** The scratch database on the coordinator and on every worker, with citus, and the workers added. */
    private ConnectionSettings scratchCluster() throws SQLException {
        List<String[]> workers = workers(coordinator);
        if (workers.isEmpty()) {
            throw new UserError("--citus " + coordinator + " is no Citus coordinator with workers (pg_dist_node lists"
                    + " none): give the URL of a database where the citus extension exists and the workers are added.");
        }
        String host;
        int port;
        try (Connection c = coordinator.open(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select coalesce(host(inet_server_addr()), 'localhost'), inet_server_port()")) {
            r.next();
            host = r.getString(1);
            port = r.getInt(2);
        }
        for (String[] worker : workers) {
            ConnectionSettings scratch = ScratchDatabase.recreate(node(worker[0], worker[1], "postgres"), database, "bench");
            execute(scratch, "create extension citus");
        }
        ConnectionSettings cluster = ScratchDatabase.recreate(coordinator, database, "bench");
        execute(cluster, "create extension citus");
        execute(cluster, "select citus_set_coordinator_host('" + host + "', " + port + ")");
        for (String[] worker : workers) {
            execute(cluster, "select citus_add_node('" + worker[0] + "', " + worker[1] + ")");
        }
        return cluster;
    }

    private ConnectionSettings node(String host, String port, String name) {
        return new ConnectionSettings("jdbc:postgresql://" + host + ":" + port + "/" + name, coordinator.user(),
                coordinator.password(), true);
    }

    private static List<String[]> workers(ConnectionSettings settings) throws SQLException {
        List<String[]> workers = new ArrayList<>();
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            try (ResultSet citus = s.executeQuery("select exists (select 1 from pg_extension where extname = 'citus')")) {
                citus.next();
                if (!citus.getBoolean(1)) {
                    return workers;
                }
            }
            try (ResultSet r = s.executeQuery("select nodename, nodeport::text from pg_dist_node"
                    + " where noderole = 'primary' and isactive and groupid <> 0 order by nodeid")) {
                while (r.next()) {
                    workers.add(new String[] {r.getString(1), r.getString(2)});
                }
            }
        }
        return workers;
    }

    /** Empties the loader's tables, lands the documents afresh and returns how long k callers take to load them. */
    private double timedLoad(ConnectionSettings settings, boolean citus, byte[] json, int k, int batchSize)
            throws Exception {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute("truncate " + (citus ? "test_mv.landed_documents, test_mv.lane_positions" : "public.fake_json_request")
                    + ", test_mv.clients, test_mv.phones, test_mv.addresses, test_mv.products, test_mv.load_errors,"
                    + " test_mv.load_duplicates, test_mv.load_batches");
            s.execute("update test_mv.load_metadata set last_xid = '0', last_request_id = 0, last_batch_id = null,"
                    + " loaded_documents = 0, rejected_documents = 0, duplicate_documents = 0");
            if (citus) {
                // Straight into the shards: the view's row trigger lands a document at a time (docs/scale-out.md).
                s.execute("create temporary table staged (stage jsonb)");
                c.unwrap(PGConnection.class).getCopyAPI().copyIn("copy staged (stage) from stdin",
                        new ByteArrayInputStream(lines(json)));
                s.execute("insert into test_mv.landed_documents (lane, stage)"
                        + " select test_mv.document_lane(jsonb_hash_extended(stage, 0)), stage from staged");
            } else {
                new DocumentImporter().importStream(c, new ByteArrayInputStream(json), "generated", n -> { });
            }
            s.execute("vacuum analyze");
            // The landing's dirty pages written now, not during the load.
            s.execute("checkpoint");
            if (citus) {
                s.execute("select run_command_on_workers('checkpoint')");
            }
        }
        try (Connection first = settings.open()) {
            long started = System.nanoTime();
            BatchFigures loaded = new ParallelLoader(new BatchLoader(batchSize), k).drain(settings, first, () -> false,
                    (total, seconds) -> { });
            double elapsed = (System.nanoTime() - started) / 1e9;
            if (loaded.taken() != documents) {
                throw new IllegalStateException("the run took " + loaded.taken() + " of " + documents + " documents");
            }
            return elapsed;
        }
    }

    /** The generator's JSON array as one document a line, for COPY. */
    private static byte[] lines(byte[] json) throws Exception {
        StringBuilder text = new StringBuilder();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(json)
                .forEach(d -> text.append(d.toString().replace("\\", "\\\\")).append('\n'));
        return text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void execute(ConnectionSettings settings, String sql) throws SQLException {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
