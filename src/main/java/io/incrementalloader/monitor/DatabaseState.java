package io.incrementalloader.monitor;

import static io.incrementalloader.generated.test_mv.Tables.LOAD_METADATA;
import static io.incrementalloader.generated.test_mv.Tables.HOLDING_BACK;
import static io.incrementalloader.generated.test_mv.Tables.LANES;
import static io.incrementalloader.generated.test_mv.Tables.REJECTIONS;
import static io.incrementalloader.generated.test_mv.Tables.RUN_HEALTH;
import static org.jooq.impl.DSL.max;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Snapshot;
import java.sql.Connection;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.function.LongSupplier;

/**
 * What metrics and the readiness probe read from the database: the backlog, the position's age, how runs go. Read
 * in one snapshot, at most every few seconds whatever the number of scrapes and probes; when the database does not
 * answer, it says so and keeps nothing older.
 */
public final class DatabaseState {
    /** The lanes (V011): a lag each, so that one lane held or failing shows while the others keep up. */
    public static final int LANE_COUNT = 16;

    /**
     * A reading; {@code up} false when the database did not answer (the other figures are then unknown).
     * {@code laneLagSeconds}: the age of each lane's oldest pending document, by lane. {@code heldBackSeconds}: how
     * long the landing transaction that pending documents wait for has been open (holding_back), 0 for none.
     * {@code rejectionsByRule}: the rejections kept, by rule.
     */
    public record Reading(boolean up, String error, long pending, double lagSeconds, double positionAgeSeconds,
                          int consecutiveFailures, double lastSuccessEpochSeconds, double[] laneLagSeconds,
                          double heldBackSeconds, java.util.Map<String, Long> rejectionsByRule) {
        static Reading down(String error) {
            double[] unknown = new double[LANE_COUNT];
            java.util.Arrays.fill(unknown, Double.NaN);
            return new Reading(false, error, 0, Double.NaN, Double.NaN, 0, Double.NaN, unknown, Double.NaN,
                    java.util.Map.of());
        }
    }

    private static final Duration FRESH = Duration.ofSeconds(5);

    private final ConnectionSettings settings;
    private final LongSupplier clock;
    private Reading last;
    private long readAt;

    public DatabaseState(ConnectionSettings settings) {
        this(settings, System::nanoTime);
    }

    DatabaseState(ConnectionSettings settings, LongSupplier clock) {
        this.settings = settings;
        this.clock = clock;
    }

    public synchronized Reading read() {
        long now = clock.getAsLong();
        if (last == null || now - readAt > FRESH.toNanos()) {
            last = readNow();
            readAt = now;
        }
        return last;
    }

    private Reading readNow() {
        try (Connection connection = settings.open()) {
            return Snapshot.read(connection, sql -> {
                // The lanes once, and their sum here: what pending() would add up (R__load_status.sql).
                var lanes = sql.selectFrom(LANES.call()).fetch();
                long pending = 0;
                OffsetDateTime oldest = null;
                double[] laneLag = new double[LANE_COUNT];
                OffsetDateTime now = OffsetDateTime.now();
                for (var lane : lanes) {
                    pending += lane.getDocuments();
                    OffsetDateTime laneOldest = lane.getOldestLandedAt();
                    if (laneOldest != null && (oldest == null || laneOldest.isBefore(oldest))) {
                        oldest = laneOldest;
                    }
                    laneLag[lane.getLane()] = secondsSince(laneOldest, now);
                }
                // The position moved last, of whichever lane.
                var moved = sql.select(max(LOAD_METADATA.UPDATED_AT)).from(LOAD_METADATA).fetchSingle().value1();
                var health = sql.selectFrom(RUN_HEALTH).fetchSingle();
                var heldBackSince = sql.select(HOLDING_BACK.call().SINCE).from(HOLDING_BACK.call()).limit(1)
                        .fetchOptional(0, OffsetDateTime.class).orElse(null);
                return new Reading(true, null, pending, secondsSince(oldest, now), secondsSince(moved, now),
                        health.getConsecutiveFailures(), health.getLastSuccessAt() == null ? Double.NaN
                                : health.getLastSuccessAt().toInstant().toEpochMilli() / 1000.0, laneLag,
                        secondsSince(heldBackSince, now), rejectionsByRule(sql));
            }, "set local statement_timeout = '5s'");
        } catch (Exception e) {
            return Reading.down(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** The rejections kept, counted by rule (test_mv.rejections): a few dozen rules at most. */
    private static java.util.Map<String, Long> rejectionsByRule(org.jooq.DSLContext sql) {
        java.util.Map<String, Long> counts = new java.util.TreeMap<>();
        sql.select(REJECTIONS.RULE, org.jooq.impl.DSL.count()).from(REJECTIONS).groupBy(REJECTIONS.RULE)
                .forEach(r -> counts.put(String.valueOf(r.value1()), r.value2().longValue()));
        return counts;
    }

    private static double secondsSince(OffsetDateTime time, OffsetDateTime now) {
        return time == null ? 0 : Math.max(0, Duration.between(time, now).toMillis() / 1000.0);
    }
}
