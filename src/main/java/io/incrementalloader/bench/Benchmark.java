package io.incrementalloader.bench;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.db.ScratchDatabase;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.load.DocumentImporter;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.BatchLoader;
import io.incrementalloader.verify.Reconciliation;
import io.incrementalloader.verify.RunCheck;
import io.incrementalloader.verify.RunChecker;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;

/**
 * Measures the loader against what PostgreSQL itself needs (the floor), a client-side peer and the naive
 * reference, on the same generated documents, each in a fresh database, and prints a table of medians.
 *
 * <p>The floor: COPY the documents into a bare jsonb table, plus one INSERT ... SELECT per table of the very rows
 * the loader writes, already flattened, into test_mv's own tables (same columns, indexes and keys). A loader
 * figure counts the COPY into fake_json_request too, so that work moved to landing time would be counted.
 */
public final class Benchmark {
    private final ConnectionSettings server;
    private final String database;
    private final int documents;
    private final int runs;
    private final List<Integer> batchSizes;
    private final boolean loaderOnly;
    private final List<Integer> workers;
    private final Map<String, ConcurrentCallers> callers = new LinkedHashMap<>();
    private final PrintWriter out;

    public Benchmark(ConnectionSettings server, String database, int documents, int runs, List<Integer> batchSizes,
                     boolean loaderOnly, List<Integer> workers, PrintWriter out) {
        this.server = server;
        this.database = database;
        this.documents = documents;
        this.runs = runs;
        this.batchSizes = batchSizes;
        this.loaderOnly = loaderOnly;
        this.workers = workers;
        this.out = out;
    }

    /** One measured scenario: seconds for each run. */
    private record Figure(String name, List<Double> seconds) {
        double median() {
            List<Double> sorted = seconds.stream().sorted().toList();
            int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }

        double spread() {
            return max() - min();
        }

        /**
         * The floor's time over this scenario's, round by round: the two ran minutes apart at most, so a slow spell
         * of the machine touches both, where the ratio of two medians may pair a fast floor with a slow loader.
         */
        Figure shareOf(Figure floor) {
            List<Double> shares = new ArrayList<>();
            for (int round = 0; round < seconds.size(); round++) {
                shares.add(floor.seconds.get(round) / seconds.get(round));
            }
            return new Figure(name, shares);
        }

        double min() {
            return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        }

        double max() {
            return seconds.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    public void run() throws Exception {
        byte[] json = generate();
        byte[] copyText = copyText(json);
        out.printf("incremental-loader benchmark: %,d documents (%,d MB), %d runs each, database %s%n",
                documents, json.length >> 20, runs, database);
        Map<String, Scenario> scenarios = new LinkedHashMap<>();
        scenarios.put("floor", () -> floor(copyText));
        for (int batchSize : batchSizes) {
            scenarios.put("load_batch(" + batchSize + ")", () -> loader(copyText, batchSize, false));
            // In the database the load just left: all the work of the check after a run of that batch size.
            scenarios.put(RUN_CHECK + batchSize + ")", this::runCheck);
            // What load and serve do: the same load from Java, its check in chunks while it loads.
            scenarios.put(SERVICE_RUN + batchSize + ")", () -> serviceRun(copyText, batchSize));
        }
        int smallest = batchSizes.stream().min(Integer::compare).orElseThrow();
        scenarios.put("load_batch(" + smallest + ") async", () -> loader(copyText, smallest, true));
        // Concurrent callers, each looping load_batch on its own connection: what K sessions or pg_cron jobs get.
        for (int k : workers) {
            if (k > 1) {
                String name = CALLERS_PREFIX + smallest + ") x " + k;
                ConcurrentCallers calling = callers.computeIfAbsent(name, n -> new ConcurrentCallers());
                scenarios.put(name, () -> concurrent(copyText, smallest, k, calling));
            }
        }
        if (!loaderOnly) {
            scenarios.put("client-side peer", () -> peer(copyText, true));
            scenarios.put("naive reference", () -> peer(copyText, false));
            scenarios.put("raw COPY", () -> rawCopy(copyText));
            scenarios.put("import", () -> importFile(json));
        }
        // Round by round, each scenario once a round: a slow spell of the machine then touches every scenario's
        // spread rather than all the runs of one scenario.
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        for (int round = 1; round <= runs; round++) {
            for (Map.Entry<String, Scenario> scenario : scenarios.entrySet()) {
                double run = scenario.getValue().run();
                seconds.computeIfAbsent(scenario.getKey(), name -> new ArrayList<>()).add(run);
                out.printf("  %-26s run %d: %.2f s%n", scenario.getKey(), round, run);
            }
        }
        Map<String, Figure> figures = new LinkedHashMap<>();
        seconds.forEach((name, times) -> figures.put(name, new Figure(name, times)));
        print(figures);
    }

    @FunctionalInterface
    private interface Scenario {
        /** Runs once in a fresh database and returns the seconds it took. */
        double run() throws Exception;
    }

    /** Fresh database, migrated; returns its settings. Only a database that bench created is ever dropped. */
    private ConnectionSettings freshDatabase() {
        ConnectionSettings settings;
        try {
            settings = ScratchDatabase.recreate(server, database, "bench");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("Cannot recreate the benchmark database " + database + ": " + e.getMessage(), e);
        }
        Migrations.apply(settings);
        return settings;
    }

    private double floor(byte[] copyText) throws Exception {
        try (Connection c = freshDatabase().open(); Statement s = c.createStatement()) {
            // Untimed: the loader's own rows, flattened into scratch tables, then the target tables emptied.
            copy(c, "copy public.fake_json_request (stage) from stdin", copyText);
            s.execute("call load_batch(" + documents + ")");
            // In key order, the order that costs PostgreSQL least to write: the floor at its lowest.
            Map<String, String> keys = Map.of("clients", "client_id", "phones", "client_id, position",
                    "addresses", "client_id, position", "products", "client_id, product_name");
            for (String table : List.of("clients", "phones", "addresses", "products")) {
                s.execute("create unlogged table flat_" + table + " as select * from test_mv." + table
                        + " order by " + keys.get(table));
            }
            s.execute("truncate test_mv.clients, test_mv.phones, test_mv.addresses, test_mv.products");
            s.execute("create table landing (stage jsonb not null)");
            s.execute("vacuum analyze");
            return timed(c, () -> {
                copy(c, "copy landing (stage) from stdin", copyText);
                c.setAutoCommit(false);
                for (String table : List.of("clients", "phones", "addresses", "products")) {
                    s.execute("insert into test_mv." + table + " select * from flat_" + table);
                }
                c.commit();
            });
        }
    }

    /**
     * The loader; with asyncCommit, in a session with synchronous_commit off: each batch's COMMIT then returns
     * before its WAL reaches the disk (a crash may undo the last batches, which the next run loads again).
     */
    private double loader(byte[] copyText, int batchSize, boolean asyncCommit) throws Exception {
        try (Connection c = freshDatabase().open(); Statement s = c.createStatement()) {
            if (asyncCommit) {
                s.execute("set synchronous_commit = off");
            }
            return timed(c, () -> {
                copy(c, "copy public.fake_json_request (stage) from stdin", copyText);
                s.execute(drainLoop(batchSize));
            });
        }
    }

    /**
     * A DO block that calls load_batch(N) and commits until no lane has a document past its position. "Anything
     * left?" as each lane's next row in its order, a probe of the lane index a lane. Written as an EXISTS over the
     * landing table, the planner scanned it from its start instead, after every batch: 0.46 s of the loop on 50,000
     * documents at batch 100, the loader's time charged for the harness's question.
     */
    static String drainLoop(int batchSize) {
        return "do $$ begin loop call load_batch(" + batchSize + "); commit;"
                + " exit when not exists (select 1 from test_mv.load_metadata p"
                + " where (select r.id from public.fake_json_request r"
                + " where test_mv.document_lane(r.document_key) = p.lane"
                + " and (r.landed_xid, r.id) > (p.last_xid, p.last_request_id)"
                + " order by r.landed_xid, r.id limit 1) is not null); end loop; end $$";
    }

    private static final String RUN_CHECK = "run check (batch ";
    private static final String CALLERS_PREFIX = "load_batch(";

    /** K callers at once on the same documents, after the same COPY. */
    private double concurrent(byte[] copyText, int batchSize, int k, ConcurrentCallers calling) throws Exception {
        ConnectionSettings settings = freshDatabase();
        try (Connection c = settings.open()) {
            return timed(c, () -> {
                copy(c, "copy public.fake_json_request (stage) from stdin", copyText);
                calling.run(settings, k, batchSize);
            });
        }
    }
    private static final String SERVICE_RUN = "load + check (batch ";

    /** A run of load: COPY, then BatchLoader's calls with the RunChecker, until its verdict is recorded. */
    private double serviceRun(byte[] copyText, int batchSize) throws Exception {
        ConnectionSettings settings = freshDatabase();
        try (Connection c = settings.open(); RunChecker checker = new RunChecker(settings)) {
            return timed(c, () -> {
                copy(c, "copy public.fake_json_request (stage) from stdin", copyText);
                BatchFigures run = new BatchLoader(batchSize).drain(c, () -> false, checker::afterBatch);
                RunCheck.Verdict verdict = checker.finish(c, run);
                if (!verdict.sound()) {
                    throw new IllegalStateException("the benchmark's load is not sound: " + verdict);
                }
            });
        }
    }

    /** The check after a run (verify.RunCheck), over every batch of the load before it. */
    private double runCheck() throws Exception {
        try (Connection c = server.withDatabase(database).open(); Statement s = c.createStatement();
             var batches = s.executeQuery("select min(batch_id), max(batch_id) from test_mv.load_batches")) {
            batches.next();
            long first = batches.getLong(1);
            long last = batches.getLong(2);
            return timed(c, () -> {
                List<Reconciliation.Difference> differences = Reconciliation.checkRun(c, first, last).differences();
                if (!differences.isEmpty()) {
                    throw new IllegalStateException("the benchmark's load is not sound: " + differences);
                }
            });
        }
    }

    private double peer(byte[] copyText, boolean batched) throws Exception {
        ConnectionSettings settings = freshDatabase();
        ConnectionSettings rewriting = new ConnectionSettings(settings.url()
                + (settings.url().contains("?") ? "&" : "?") + "reWriteBatchedInserts=true",
                settings.user(), settings.password(), true);
        try (Connection c = rewriting.open()) {
            return timed(c, () -> {
                copy(c, "copy public.fake_json_request (stage) from stdin", copyText);
                new ClientSidePeer(batched, 100).loadAll(c);
            });
        }
    }

    private double rawCopy(byte[] copyText) throws Exception {
        try (Connection c = freshDatabase().open()) {
            return timed(c, () -> copy(c, "copy public.fake_json_request (stage) from stdin", copyText));
        }
    }

    private double importFile(byte[] json) throws Exception {
        try (Connection c = freshDatabase().open()) {
            return timed(c, () -> new DocumentImporter()
                    .importStream(c, new ByteArrayInputStream(json), "generated", n -> { }));
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    /** Seconds the work takes, after a CHECKPOINT, so that every scenario starts with no dirty buffers to flush. */
    private static double timed(Connection c, Work work) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("checkpoint");
        }
        long started = System.nanoTime();
        work.run();
        return Elapsed.secondsSince(started);
    }

    private void print(Map<String, Figure> figures) throws Exception {
        long rows = countRows();
        Figure floor = figures.get("floor");
        out.println();
        out.printf("%-26s %10s %10s %12s %12s %10s %12s%n", "what", "median s", "spread s", "documents/s", "rows/s",
                "of floor", "its range");
        for (Figure f : figures.values()) {
            double median = f.median();
            if (f.name().startsWith(RUN_CHECK) || f.name().startsWith(SERVICE_RUN)) {
                String prefix = f.name().startsWith(RUN_CHECK) ? RUN_CHECK : SERVICE_RUN;
                Figure load = figures.get("load_batch(" + f.name().substring(prefix.length()));
                Figure share = load.shareOf(f); // the check's time over the load's, round by round
                out.printf("%-26s %10.2f %10.2f %12s %12s %10s %12s%n", f.name(), median, f.spread(), "-", "-",
                        String.format("%.2f", share.median()) + "*", String.format("%.2f-%.2f", share.min(), share.max()));
                continue;
            }
            boolean copyOnly = f.name().contains("COPY") || f.name().equals("import");
            Figure share = f.shareOf(floor);
            out.printf("%-26s %10.2f %10.2f %12s %12s %10s %12s%n", f.name(), median, f.spread(),
                    String.format("%,.0f", documents / median),
                    copyOnly ? "-" : String.format("%,.0f", rows / median),
                    copyOnly ? "-" : String.format("%.2f", share.median()),
                    copyOnly ? "-" : String.format("%.2f-%.2f", share.min(), share.max()));
        }
        for (Map.Entry<String, ConcurrentCallers> calling : callers.entrySet()) {
            String name = calling.getKey();
            Figure one = figures.get(name.substring(0, name.indexOf(" x ")));
            Figure share = figures.get(name).shareOf(one); // one caller's time over K callers', round by round
            out.printf("%n%s callers: %.2f x one caller's throughput (%.2f-%.2f); their backends, sampled every 10 ms:"
                    + " %s", name.substring(name.indexOf(" x ") + 3), share.median(), share.min(), share.max(),
                    calling.getValue().waits());
        }
        if (!callers.isEmpty()) {
            out.println();
        }
        out.printf("%nrows: %,d (clients, phones, addresses, products). \"of floor\" = the floor's time / its time in the"
                + " same round, the median over the rounds, and its range (1 = as fast as PostgreSQL can take the"
                + " documents in and write the rows). Loader, peer and naive figures include the COPY into"
                + " fake_json_request. * Its time / the time of load_batch(N) in the same round: for a run check, the"
                + " check alone, after the load; for load + check, the whole run of the service.%n",
                rows);
    }

    private long countRows() throws Exception {
        try (Connection c = server.withDatabase(database).open(); Statement s = c.createStatement();
             var r = s.executeQuery("select (select count(*) from test_mv.clients) + (select count(*) from test_mv.phones)"
                     + " + (select count(*) from test_mv.addresses) + (select count(*) from test_mv.products)")) {
            r.next();
            long rows = r.getLong(1);
            if (rows > 0) {
                return rows;
            }
        }
        // The last scenario (import) loads nothing: count what the loader writes for these documents.
        ConnectionSettings settings = freshDatabase();
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            copy(c, "copy public.fake_json_request (stage) from stdin", copyText(generate()));
            s.execute("call load_batch(" + documents + ")");
            var r = s.executeQuery("select loaded + phones + addresses + products from test_mv.load_batches");
            r.next();
            return r.getLong(1);
        }
    }

    private byte[] generate() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new DocumentGenerator(2026, 0, 0).write(documents, out);
        return out.toByteArray();
    }

    /** The documents as COPY text: one compact document a line, backslashes doubled. */
    static byte[] copyText(byte[] jsonArray) {
        String text = new String(jsonArray, StandardCharsets.UTF_8).trim();
        // The generator writes "[\n", one document a line followed by ",", and "\n]".
        StringBuilder copy = new StringBuilder(text.length());
        for (String line : text.substring(1, text.length() - 1).split("\n")) {
            String document = line.endsWith(",") ? line.substring(0, line.length() - 1) : line;
            if (!document.isBlank()) {
                copy.append(document.replace("\\", "\\\\")).append('\n');
            }
        }
        return copy.toString().getBytes(StandardCharsets.UTF_8);
    }

    static void copy(Connection c, String sql, byte[] copyText) throws Exception {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql, new ByteArrayInputStream(copyText));
    }
}
