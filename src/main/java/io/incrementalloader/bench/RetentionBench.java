package io.incrementalloader.bench;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.db.ScratchDatabase;
import io.incrementalloader.generate.DocumentGenerator;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;

/**
 * Retention, measured both ways (docs/retention.md). In one scratch database: {@code old} documents landed 40 days
 * ago and loaded, then fresh documents loaded by load_batch(100), alone and while {@code prune_landing} removes the
 * old ones by batched DELETE; then the same old rows in a copy of the landing table partitioned by landing time
 * (twelve monthly partitions), where retention is DETACH and DROP of a partition, and what such a table would cost
 * the loader's two reads of the landing table: the next batch in the position's order, and a document by id.
 */
public final class RetentionBench {
    private static final int FRESH = 100_000;
    private static final int CHUNK = 100_000;

    private final ConnectionSettings server;
    private final String database;
    private final int old;
    private final PrintWriter out;
    private int seed = 3000;

    public RetentionBench(ConnectionSettings server, String database, int old, PrintWriter out) {
        this.server = server;
        this.database = database;
        this.old = old;
        this.out = out;
    }

    public void run() throws Exception {
        ConnectionSettings settings = ScratchDatabase.recreate(server, database, "bench");
        Migrations.apply(settings);
        out.printf("retention: %,d documents landed 40 days ago and loaded; %,d fresh ones loaded by load_batch(100)"
                + " at a time; database %s%n", old, FRESH, database);
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            land(c, old, "now() - interval '40 days'");
            s.execute("do $$ begin loop call load_batch(10000); commit;"
                    + " exit when (select p.documents from test_mv.pending() p) = 0; end loop; end $$");
            s.execute("vacuum analyze");
            long bytes = size(s, "public.fake_json_request");

            land(c, FRESH, "now()");
            double alone = timed(() -> load(settings));
            land(c, FRESH, "now()");
            s.execute("checkpoint");
            CompletableFuture<Double> pruning = CompletableFuture.supplyAsync(() -> timed(() -> prune(settings)));
            double beside = timed(() -> load(settings));
            double prune = pruning.join();
            s.execute("vacuum public.fake_json_request");
            out.printf("%nbatched DELETE (prune_landing, 10,000 rows a transaction)%n");
            out.printf("  pruning %,d loaded documents: %.1f s (%,.0f documents/s), beside a load%n", old, prune,
                    old / prune);
            out.printf("  load_batch(100) of %,d documents: %.1f s alone, %.1f s while pruning (%.0f%% of its"
                    + " throughput)%n", FRESH, alone, beside, 100 * alone / beside);
            out.printf("  landing table: %,d MB with the old documents; %,d MB after pruning them, %,d fresh ones landed"
                    + " and VACUUM (the file does not shrink; the space is reused by later landings)%n", bytes >> 20,
                    size(s, "public.fake_json_request") >> 20, 2 * FRESH);

            partitioned(c, s);
        }
    }

    /** The same old rows in a landing table partitioned by month of landing; retention as DETACH and DROP. */
    private void partitioned(Connection c, Statement s) throws Exception {
        s.execute("create table landing_parted (id bigint not null, stage jsonb not null, landed_at timestamptz not null,"
                + " landed_xid xid8 not null, lane integer not null) partition by range (landed_at)");
        for (int month = -11; month <= 0; month++) {
            s.execute(String.format("create table landing_m%02d partition of landing_parted for values from"
                    + " (date_trunc('month', now()) + interval '%d months') to (date_trunc('month', now()) + interval"
                    + " '%d months')", month + 11, month, month + 1));
        }
        s.execute("create table landing_default partition of landing_parted default");
        s.execute("create index on landing_parted (lane, landed_xid, id)"); // the lane index (V011)
        s.execute("create index on landing_parted (id)");
        land(c, old, "now() - interval '40 days'");
        s.execute("insert into landing_parted select id, stage, landed_at, landed_xid,"
                + " test_mv.document_lane(document_key) from public.fake_json_request");
        s.execute("vacuum analyze public.fake_json_request");
        s.execute("vacuum analyze landing_parted");
        // What such a table would cost the loader: its two reads, repeated, on both tables holding the same rows
        // (the plain table's pruned rows are gone; the ids read are of rows both hold).
        // A lane's next batch: lane 0's, by the lane index of each table.
        String next = "select count(*) from (select id from %s where %s = 0 and (landed_xid, id) > ((select"
                + " min(landed_xid) from %s), 0) order by landed_xid, id limit 100) t";
        String range = firstString(s, "select min(id) || ',' || max(id) from public.fake_json_request");
        long low = Long.parseLong(range.split(",")[0]);
        long width = Long.parseLong(range.split(",")[1]) - low;
        String byId = "select count(*) from %s where id = any(array(select (random() * " + width + ")::bigint + " + low
                + " from generate_series(1, 100)))";
        double nextPlain = repeat(s, String.format(next, "public.fake_json_request", "test_mv.document_lane(document_key)",
                "public.fake_json_request"));
        double nextParted = repeat(s, String.format(next, "landing_parted", "lane", "landing_parted"));
        double idPlain = repeat(s, String.format(byId, "public.fake_json_request"));
        double idParted = repeat(s, String.format(byId, "landing_parted"));

        String oldPartition = firstString(s, "select tableoid::regclass::text from landing_parted where landed_at < now() -"
                + " interval '30 days' limit 1");
        long oldRows = Long.parseLong(firstString(s, "select count(*) from " + oldPartition));
        double drop = timed(() -> {
            s.execute("alter table landing_parted detach partition " + oldPartition);
            s.execute("drop table " + oldPartition);
        });
        out.printf("%npartitioned by landing month (12 partitions and a default)%n");
        out.printf("  pruning %,d documents: DETACH and DROP of a partition, %.2f s, the space given back at once%n",
                oldRows, drop);
        out.printf("  the loader's reads of the landing table, ms a read (1,000 reads): plain table / partitioned%n");
        out.printf("    the next 100 documents in the position's order (every batch): %.3f / %.3f%n", nextPlain, nextParted);
        out.printf("    100 documents by id (the duplicate probe's read): %.3f / %.3f%n", idPlain, idParted);
        out.flush();
    }

    private static double repeat(Statement s, String sql) throws Exception {
        s.execute(sql); // warm
        long started = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            s.execute(sql);
        }
        return Elapsed.secondsSince(started);
    }

    private void load(ConnectionSettings settings) throws Exception {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute("do $$ begin loop call load_batch(100); commit;"
                    + " exit when (select p.documents from test_mv.pending() p) = 0; end loop; end $$");
        }
    }

    private static void prune(ConnectionSettings settings) throws Exception {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute("call prune_landing(interval '30 days')");
        }
    }

    /** Lands count distinct generated documents with the landing time given (an SQL expression), by COPY. */
    private void land(Connection c, int count, String landedAt) throws Exception {
        String time;
        try (Statement s = c.createStatement()) {
            time = firstString(s, "select (" + landedAt + ")::text");
        }
        for (int landed = 0; landed < count; landed += CHUNK) {
            int n = Math.min(CHUNK, count - landed);
            ByteArrayOutputStream json = new ByteArrayOutputStream();
            new DocumentGenerator(seed++, 0, 0).write(n, json);
            StringBuilder rows = new StringBuilder();
            for (String line : new String(Benchmark.copyText(json.toByteArray()), StandardCharsets.UTF_8).split("\n")) {
                rows.append(line).append('\t').append(time).append('\n');
            }
            Benchmark.copy(c, "copy public.fake_json_request (stage, landed_at) from stdin",
                    rows.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static long size(Statement s, String table) throws Exception {
        return Long.parseLong(firstString(s, "select pg_table_size('" + table + "')"));
    }

    private static String firstString(Statement s, String sql) throws Exception {
        try (var r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : null;
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private static double timed(Work work) {
        long started = System.nanoTime();
        try {
            work.run();
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return Elapsed.secondsSince(started);
    }
}
