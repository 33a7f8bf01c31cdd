package io.incrementalloader.bench;

import io.incrementalloader.db.ConnectionSettings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * K callers at once, each on a connection of its own looping {@code CALL load_batch(N); COMMIT;} until nothing is
 * pending, as K psql sessions or pg_cron jobs would; and, while they run, what their backends wait for, sampled
 * from pg_stat_activity every 10 ms (where the time goes when callers contend: the position's lock, WAL, the
 * shared indexes).
 */
final class ConcurrentCallers {
    private static final String APPLICATION = "bench-caller";

    /** What the callers' backends were doing, sample by sample: "wait_event_type:wait_event", or "CPU". */
    private final Map<String, Integer> waits = new TreeMap<>();

    double run(ConnectionSettings settings, int callers, int batchSize) throws Exception {
        List<CompletableFuture<Void>> running = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean(false);
        long started = System.nanoTime();
        for (int i = 0; i < callers; i++) {
            running.add(CompletableFuture.runAsync(() -> call(settings, batchSize)));
        }
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> sample(settings, done));
        try {
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } finally {
            done.set(true);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        sampler.join();
        return seconds;
    }

    /** The samples as shares, the largest first: "Lock:tuple 41%, CPU 35%, ...". */
    String waits() {
        int total = waits.values().stream().mapToInt(Integer::intValue).sum();
        if (total == 0) {
            return "no samples";
        }
        return waits.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(6)
                .map(e -> String.format("%s %.0f%%", e.getKey(), 100.0 * e.getValue() / total))
                .collect(Collectors.joining(", "));
    }

    private static void call(ConnectionSettings settings, int batchSize) {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute("set application_name = '" + APPLICATION + "'");
            s.execute(Benchmark.drainLoop(batchSize));
        } catch (Exception e) {
            throw new IllegalStateException("a caller failed: " + e.getMessage(), e);
        }
    }

    private void sample(ConnectionSettings settings, AtomicBoolean done) {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            while (!done.get()) {
                try (ResultSet r = s.executeQuery("select coalesce(wait_event_type || ':' || wait_event, 'CPU')"
                        + " from pg_stat_activity where application_name = '" + APPLICATION + "' and state = 'active'")) {
                    while (r.next()) {
                        waits.merge(r.getString(1), 1, Integer::sum);
                    }
                }
                Thread.sleep(10);
            }
        } catch (Exception e) {
            throw new IllegalStateException("the wait sampler failed: " + e.getMessage(), e);
        }
    }
}
