package io.incrementalloader.monitor;

import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.schedule.RunObserver;
import io.incrementalloader.schedule.RunOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * serve's metrics, in Prometheus' text format through Micrometer. Counters and the batch timer are kept as runs
 * happen; the gauges of the backlog and of run health are read from the database at scrape time
 * ({@link DatabaseState}), so that they are true whoever loads (another instance, a DBA, pg_cron).
 */
public final class ServiceMetrics implements RunObserver {
    private static final String PREFIX = "incremental.loader.";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter taken;
    private final Counter loaded;
    private final Counter rejected;
    private final Counter duplicates;
    private final Map<String, Counter> rows = new java.util.LinkedHashMap<>();
    private final Map<RunOutcome, Counter> runs = new EnumMap<>(RunOutcome.class);
    private final Timer batches;
    private final DatabaseState database;
    private final MultiGauge rejections;

    public ServiceMetrics(DatabaseState database) {
        this.database = database;
        taken = Counter.builder(PREFIX + "documents.taken").description("Documents the runs took").register(registry);
        loaded = documents("loaded");
        rejected = documents("rejected");
        duplicates = documents("duplicate");
        for (String table : new String[] {"clients", "phones", "addresses", "products"}) {
            rows.put(table, Counter.builder(PREFIX + "rows.written").tag("table", table)
                    .description("Rows the runs wrote").register(registry));
        }
        for (RunOutcome outcome : RunOutcome.values()) {
            runs.put(outcome, Counter.builder(PREFIX + "runs").tag("outcome", outcome.name().toLowerCase())
                    .description("Runs, by how they ended").register(registry));
        }
        batches = Timer.builder(PREFIX + "batch.duration").description("How long a batch took, its commit included")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30),
                        Duration.ofMinutes(2))
                .register(registry);

        gauge("database.up", null, database, r -> r.up() ? 1 : 0,
                "1 when the database answered the last reading, else 0");
        gauge("pending.documents", null, database, r -> r.up() ? r.pending() : Double.NaN,
                "Documents landed past their lane's position");
        gauge("lag", "seconds", database, DatabaseState.Reading::lagSeconds,
                "Age of the oldest pending document (0 when none is pending)");
        gauge("position.age", "seconds", database, DatabaseState.Reading::positionAgeSeconds,
                "Time since a position last moved");
        gauge("held.back", "seconds", database, DatabaseState.Reading::heldBackSeconds,
                "How long the open landing transaction that pending documents wait for has been open (0 when none)");
        for (int lane = 0; lane < DatabaseState.LANE_COUNT; lane++) {
            int index = lane;
            Gauge.builder(PREFIX + "lane.lag", database, d -> d.read().laneLagSeconds()[index]).baseUnit("seconds")
                    .tag("lane", String.valueOf(lane)).strongReference(true)
                    .description("Age of the lane's oldest pending document (0 when none is pending)").register(registry);
        }
        gauge("runs.failed.consecutive", null, database, r -> r.up() ? r.consecutiveFailures() : Double.NaN,
                "Runs of load or serve failed in a row (0 after a success)");
        gauge("last.success.timestamp", "seconds", database, DatabaseState.Reading::lastSuccessEpochSeconds,
                "When a run of load or serve last succeeded, in seconds since the epoch");

        rejections = MultiGauge.builder(PREFIX + "rejections")
                .description("Rejected documents kept in test_mv.load_errors, by rule (test_mv.rejections)")
                .register(registry);

        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    private Counter documents(String outcome) {
        return Counter.builder(PREFIX + "documents").tag("outcome", outcome)
                .description("Documents the runs took, by what became of them").register(registry);
    }

    private void gauge(String name, String unit, DatabaseState database, ToDoubleFunction<DatabaseState.Reading> value,
                       String description) {
        // A strong reference: by default a gauge holds its object weakly, and would read NaN once it is collected.
        Gauge.builder(PREFIX + name, database, d -> value.applyAsDouble(d.read())).baseUnit(unit)
                .description(description).strongReference(true).register(registry);
    }

    @Override
    public void batch(double seconds) {
        batches.record((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run(RunOutcome outcome, BatchFigures figures) {
        runs.get(outcome).increment();
        taken.increment(figures.taken());
        loaded.increment(figures.loaded());
        rejected.increment(figures.rejected());
        duplicates.increment(figures.duplicates());
        rows.get("clients").increment(figures.loaded());
        rows.get("phones").increment(figures.phones());
        rows.get("addresses").increment(figures.addresses());
        rows.get("products").increment(figures.products());
    }

    public DatabaseState database() {
        return database;
    }

    /** The scrape: every metric in Prometheus' text format. */
    public String scrape() {
        DatabaseState.Reading reading = database.read();
        if (reading.up()) { // while the database does not answer, the last counts stand (database_up says why)
            rejections.register(reading.rejectionsByRule().entrySet().stream()
                    .map(e -> MultiGauge.Row.of(Tags.of("rule", e.getKey()), e.getValue()))
                    .collect(java.util.stream.Collectors.toList()), true);
        }
        return registry.scrape();
    }
}
