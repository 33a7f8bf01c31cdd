package io.incrementalloader.bench;

import io.incrementalloader.Elapsed;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import io.incrementalloader.db.ScratchDatabase;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.monitor.DatabaseState;
import io.incrementalloader.status.LoaderStatus;
import io.incrementalloader.status.StatusJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What status, status --json and a scrape cost as the landing table grows: one scratch database filled to each
 * size in turn (distinct generated documents, landed by COPY, loaded by load_batch(10000)), each read timed twice
 * at each size: right after the landing, with everything new pending (the worst backlog), and after the load,
 * with 1,000 documents pending (the usual state). Beside them, what status counted before the running totals (V009):
 * count(*) of the landing table, clients, load_errors and load_duplicates.
 */
public final class StatusAtScale {
    private static final int CHUNK = 100_000;
    private static final int PENDING_AFTER_LOAD = 1_000;
    private static final int READS = 5;

    private final ConnectionSettings server;
    private final String database;
    private final List<Integer> sizes;
    private final PrintWriter out;
    private int chunks;

    public StatusAtScale(ConnectionSettings server, String database, List<Integer> sizes, PrintWriter out) {
        this.server = server;
        this.database = database;
        this.sizes = sizes.stream().sorted().toList();
        this.out = out;
    }

    public void run() throws Exception {
        ConnectionSettings settings = ScratchDatabase.recreate(server, database, "bench");
        Migrations.apply(settings);
        out.printf("status at scale, database %s: the median of %d reads, in ms (a command's own start and its"
                + " migration check not included)%n", database, READS);
        out.printf("%12s %12s %10s %14s %10s %18s%n", "landed", "pending", "status", "status --json", "scrape",
                "counting (before)");
        long landed = 0;
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            for (int size : sizes) {
                // The last 1,000 of the previous size are still pending: land up to the size, all of it pending.
                landed += land(c, size - landed);
                s.execute("vacuum analyze");
                row(settings, c, landed);
                s.execute("do $$ begin loop call load_batch(10000); commit;"
                        + " exit when (select p.documents from test_mv.pending() p) <= " + PENDING_AFTER_LOAD
                        + "; end loop; end $$");
                s.execute("vacuum analyze");
                row(settings, c, landed);
            }
        }
    }

    private long land(Connection c, long count) throws Exception {
        long landed = 0;
        while (landed < count) {
            int n = (int) Math.min(CHUNK, count - landed);
            ByteArrayOutputStream json = new ByteArrayOutputStream();
            // A seed a chunk: distinct documents, as producers land them, not duplicates of the first chunk.
            new DocumentGenerator(2026 + chunks++, 0, 0).write(n, json);
            Benchmark.copy(c, "copy public.fake_json_request (stage) from stdin", Benchmark.copyText(json.toByteArray()));
            landed += n;
        }
        return landed;
    }

    private void row(ConnectionSettings settings, Connection c, long landed) throws Exception {
        List<Double> text = new ArrayList<>();
        List<Double> json = new ArrayList<>();
        List<Double> scrape = new ArrayList<>();
        List<Double> counting = new ArrayList<>();
        long pending = 0;
        for (int read = 0; read < READS; read++) {
            long started = System.nanoTime();
            LoaderStatus status = LoaderStatus.read(c);
            status.render();
            text.add(Elapsed.secondsSince(started) * 1000);
            pending = status.pending().documents();

            started = System.nanoTime();
            StatusJson.write(LoaderStatus.read(c));
            json.add(Elapsed.secondsSince(started) * 1000);

            started = System.nanoTime();
            new DatabaseState(settings).read(); // opens its connection, as the service's scrape does
            scrape.add(Elapsed.secondsSince(started) * 1000);

            started = System.nanoTime();
            try (Statement s = c.createStatement()) {
                s.execute("select (select count(*) from public.fake_json_request), (select count(*) from test_mv.clients),"
                        + " (select count(*) from test_mv.load_errors), (select count(*) from test_mv.load_duplicates)");
            }
            counting.add(Elapsed.secondsSince(started) * 1000);
        }
        out.printf("%,12d %,12d %10.1f %14.1f %10.1f %18.1f%n", landed, pending, median(text), median(json),
                median(scrape), median(counting));
        out.flush();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
