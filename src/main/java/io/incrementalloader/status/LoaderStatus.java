package io.incrementalloader.status;

import static io.incrementalloader.generated.test_mv.Tables.BLOCKED_LOADERS;
import static io.incrementalloader.generated.test_mv.Tables.CHANGED_DOCUMENTS;
import static io.incrementalloader.generated.test_mv.Tables.FAILED_RUNS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_BATCHES;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_CONTROL;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_ERRORS;
import static io.incrementalloader.generated.test_mv.Tables.LANES;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_METADATA;
import static io.incrementalloader.generated.test_mv.Tables.RUN_CHECKS;
import static io.incrementalloader.generated.test_mv.Tables.RUN_HEALTH;
import static org.jooq.impl.DSL.countDistinct;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.sum;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.incrementalloader.Printable;
import io.incrementalloader.db.Snapshot;
import io.incrementalloader.generated.test_mv.Routines;
import io.incrementalloader.generated.test_mv.tables.records.LoadMetadataRecord;
import io.incrementalloader.generated.test_mv.tables.records.RunChecksRecord;
import io.incrementalloader.generated.test_mv.tables.records.RunHealthRecord;
import io.incrementalloader.load.LoadingPause;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.List;
import org.jooq.DSLContext;

/**
 * Where the loader stands, read in one go: the latest position, what is pending and how old (in total and a lane),
 * the totals, the last batches.
 */
public record LoaderStatus(Position position, LoadingPause paused, Pending pending, List<Lane> lanes,
                           List<Blocked> blocked, Totals totals, Runs runs, Checks checks, List<Batch> lastBatches,
                           List<Rejection> lastErrors) {

    /**
     * A lane (V011): its backlog (counted up to 1,000, estimated beyond: {@code exact} false), the lag of its oldest
     * pending document, and its position.
     */
    public record Lane(int lane, long pending, boolean exact, long waiting, Duration lag, long lastRequestId,
                       OffsetDateTime updatedAt) {
        @JsonProperty
        public long lagSeconds() {
            return lag.toSeconds();
        }
    }

    /** The latest position taken, of whichever lane: the row of load_metadata the seed's query reads. */
    public record Position(int lane, long lastRequestId, String lastXid, LocalDate lastDate, String lastHash,
                           Long lastBatchId, OffsetDateTime updatedAt) {
    }

    /**
     * Documents landed past their lane's position: counted up to 1,000 a lane, estimated beyond ({@code exact} false; see
     * test_mv.pending). {@code waiting} of them belong to transactions younger than one still open, which the loader
     * waits for; {@code heldBackBy} names the oldest open transaction when that matters.
     */
    public record Pending(long documents, boolean exact, long waiting, OffsetDateTime oldestLandedAt, Duration lag,
                          String heldBackBy) {
        /** The lag as a plain number too, for monitoring systems that alert on a threshold. */
        @JsonProperty
        public long lagSeconds() {
            return lag.toSeconds();
        }
    }

    /** A loader (a batch, whoever called it) waiting for a position, and the sessions it waits for. */
    public record Blocked(int pid, String application, String waitingFor) {
    }

    /**
     * The documents' outcomes, from the running totals the loader keeps on its lanes' positions (V009), and the documents
     * landed: those with an outcome and those pending (an estimate when the pending are); and of the landed, how
     * many landing rows retention removed (prune_landing).
     */
    public record Totals(long landed, long loaded, long rejected, long duplicates, long pruned) {
    }

    /**
     * How the runs of load and serve go (test_mv.run_health): how many failed in a row (0 after a success), when one
     * last succeeded, and the last failure (null when none was ever recorded).
     */
    public record Runs(int consecutiveFailures, OffsetDateTime lastSuccessAt, Failure lastFailure) {
    }

    public record Failure(OffsetDateTime failedAt, String caller, String sqlstate, String message) {
    }

    /**
     * The checks after the runs (test_mv.run_checks): the last one, the last one that found differences (null when
     * none ever did), and how many documents were changed by hand since, which the next check takes in.
     */
    public record Checks(Check last, Check lastUnsound, long changedDocuments) {
    }

    public record Check(long checkId, OffsetDateTime checkedAt, Long firstBatchId, Long lastBatchId,
                        int changedDocuments, String verdict) {
        boolean sound() {
            return "sound".equals(verdict);
        }

        String covered() {
            String batches = firstBatchId == null ? "" : "batches " + firstBatchId + "-" + lastBatchId;
            String changed = changedDocuments == 0 ? "" : changedDocuments + " document(s) changed by hand";
            return batches.isEmpty() || changed.isEmpty() ? batches + changed : batches + " and " + changed;
        }
    }

    /** A batch of the run history; kind is load, reprocess, reload or reject (README, Day two). */
    public record Batch(long batchId, String kind, OffsetDateTime startedAt, long millis, int taken, int loaded,
                        int rejected, int duplicates, String caller) {
    }

    public record Rejection(long requestId, String reason, OffsetDateTime rejectedAt) {
    }

    /**
     * Reads the status in one snapshot ({@link Snapshot}), so that its figures agree with each other (landed =
     * loaded + rejected + duplicates + pending) even while a load commits.
     */
    public static LoaderStatus read(Connection connection) throws SQLException {
        return Snapshot.read(connection, LoaderStatus::read);
    }

    static LoaderStatus read(DSLContext sql) {
        // The seed's query: the latest position is the row moved last.
        LoadMetadataRecord m = sql.selectFrom(LOAD_METADATA)
                .orderBy(LOAD_METADATA.UPDATED_AT.desc(), LOAD_METADATA.LANE).limit(1).fetchSingle();
        Position position = new Position(m.getLane(), m.getLastRequestId(), String.valueOf(m.getLastXid()),
                m.getLastDate(), m.getLastHash(), m.getLastBatchId(), m.getUpdatedAt());
        OffsetDateTime now = OffsetDateTime.now();
        // The rules live in SQL (R__load_status.sql), beside load_horizon's: read here through the generated classes.
        // The lanes once; the backlog in total is their sum, as test_mv.pending() adds it up.
        var laneRows = sql.selectFrom(LANES.call()).fetch();
        List<Lane> lanes = laneRows.map(l -> new Lane(l.getLane(), l.getDocuments(), l.getExact(), l.getWaiting(),
                lag(l.getOldestLandedAt(), now), l.getLastRequestId(), l.getUpdatedAt()));
        long documents = 0;
        long waiting = 0;
        boolean exact = true;
        OffsetDateTime oldest = null;
        for (var l : laneRows) {
            documents += l.getDocuments();
            waiting += l.getWaiting();
            exact &= l.getExact();
            if (l.getOldestLandedAt() != null && (oldest == null || l.getOldestLandedAt().isBefore(oldest))) {
                oldest = l.getOldestLandedAt();
            }
        }
        String heldBackBy = waiting == 0 ? null : Routines.heldBackBy(sql.configuration());
        Pending pending = new Pending(documents, exact, waiting, oldest, lag(oldest, now), heldBackBy);

        // Every figure here costs the same at any size: the totals are kept, not counted (V009), a lane each.
        var sums = sql.select(sum(LOAD_METADATA.LOADED_DOCUMENTS), sum(LOAD_METADATA.REJECTED_DOCUMENTS),
                sum(LOAD_METADATA.DUPLICATE_DOCUMENTS)).from(LOAD_METADATA).fetchSingle();
        long loaded = sums.value1().longValueExact();
        long rejected = sums.value2().longValueExact();
        long duplicates = sums.value3().longValueExact();
        Totals totals = new Totals(loaded + rejected + duplicates + pending.documents(), loaded, rejected, duplicates,
                sql.select(LOAD_CONTROL.PRUNED_DOCUMENTS).from(LOAD_CONTROL).fetchSingle().value1());

        RunHealthRecord health = sql.selectFrom(RUN_HEALTH).fetchSingle();
        Failure lastFailure = health.getLastFailureId() == null ? null : sql.selectFrom(FAILED_RUNS)
                .where(FAILED_RUNS.FAILURE_ID.eq(health.getLastFailureId()))
                .fetchOne(f -> new Failure(f.getFailedAt(), f.getCaller(), f.getSqlstate(), f.getMessage()));
        Runs runs = new Runs(health.getConsecutiveFailures(), health.getLastSuccessAt(), lastFailure);

        Checks checks = new Checks(
                sql.selectFrom(RUN_CHECKS).orderBy(RUN_CHECKS.CHECK_ID.desc()).limit(1).fetchOne(LoaderStatus::check),
                sql.selectFrom(RUN_CHECKS).where(RUN_CHECKS.VERDICT.ne("sound")).orderBy(RUN_CHECKS.CHECK_ID.desc())
                        .limit(1).fetchOne(LoaderStatus::check),
                sql.fetchValue(select(countDistinct(CHANGED_DOCUMENTS.CLIENT_ID)).from(CHANGED_DOCUMENTS)
                        .where(CHANGED_DOCUMENTS.CHECKED_BY.isNull())));

        // By their start (an index), then id: on Citus each node draws batch ids from a range of its own.
        List<Batch> batches = sql.selectFrom(LOAD_BATCHES)
                .orderBy(LOAD_BATCHES.STARTED_AT.desc(), LOAD_BATCHES.BATCH_ID.desc()).limit(10)
                .fetch(b -> new Batch(b.getBatchId(), b.getKind(), b.getStartedAt(),
                        Duration.between(b.getStartedAt(), b.getFinishedAt()).toMillis(), b.getTaken(), b.getLoaded(),
                        b.getRejected(), b.getDuplicates(), b.getCaller()));
        List<Rejection> errors = sql.select(LOAD_ERRORS.REQUEST_ID, LOAD_ERRORS.REASON, LOAD_ERRORS.REJECTED_AT)
                .from(LOAD_ERRORS).orderBy(LOAD_ERRORS.REJECTED_AT.desc(), LOAD_ERRORS.REQUEST_ID.desc()).limit(5)
                .fetch(e -> new Rejection(e.value1(), e.value2(), e.value3()));
        List<Blocked> blocked = sql.selectFrom(BLOCKED_LOADERS.call())
                .fetch(b -> new Blocked(b.getPid(), b.getApplication(), b.getWaitingFor()));
        return new LoaderStatus(position, LoadingPause.current(sql), pending, lanes, blocked, totals, runs, checks,
                batches, errors);
    }

    private static Duration lag(OffsetDateTime oldest, OffsetDateTime now) {
        return oldest == null ? Duration.ZERO : Duration.between(oldest, now);
    }

    private static Check check(RunChecksRecord c) {
        return new Check(c.getCheckId(), c.getCheckedAt(), c.getFirstBatchId(), c.getLastBatchId(),
                c.getChangedDocuments(), c.getVerdict());
    }

    /** The report a person reads at a glance. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("Position   document %d of lane %d (date %s, hash %s), batch %s, moved %s%n",
                position.lastRequestId(), position.lane(), position.lastDate() == null ? "-" : position.lastDate(),
                position.lastHash() == null ? "-" : position.lastHash(),
                position.lastBatchId() == null ? "-" : position.lastBatchId(), ago(position.updatedAt())));
        if (paused != null) {
            out.append(String.format("Paused     since %s by %s: %s (resume: the resume command, or CALL resume_loading())%n",
                    ago(paused.pausedAt()), Printable.of(paused.pausedBy()), Printable.of(paused.reason())));
        }
        String about = pending.exact() ? "" : "about ";
        out.append(String.format("Pending    %s%,d documents%s%n", about, pending.documents(), pending.documents() == 0 ? ""
                : ", oldest landed " + ago(pending.oldestLandedAt()) + " (lag " + human(pending.lag()) + ")"));
        List<Lane> behind = lanes.stream().filter(l -> l.pending() > 0).toList();
        if (!behind.isEmpty()) {
            out.append(String.format("Lanes      %d of %d with documents pending%n", behind.size(), lanes.size()));
            out.append(String.format("  %4s %10s %8s %10s  %s%n", "lane", "pending", "lag", "position", "moved"));
            for (Lane l : behind) {
                out.append(String.format("  %4d %10s %8s %10d  %s%n", l.lane(),
                        (l.exact() ? "" : "~") + String.format("%,d", l.pending()), human(l.lag()), l.lastRequestId(),
                        ago(l.updatedAt())));
            }
        }
        if (pending.waiting() > 0) {
            // Counted among the documents each lane's count looked at (its first 1,000): with an estimated backlog,
            // a lower bound.
            out.append(String.format("Waiting    %s%,d of them landed after a landing transaction still open, which holds"
                    + " them back: %s%n", pending.exact() ? "" : "at least ", pending.waiting(),
                    pending.heldBackBy() == null ? "it has just ended" : Printable.of(pending.heldBackBy())));
        }
        for (Blocked b : blocked) {
            out.append(String.format("Blocked    pid %d (%s) waits for a position, held by %s%n", b.pid(),
                    Printable.of(b.application()), b.waitingFor() == null ? "a session that has just ended"
                            : Printable.of(b.waitingFor())));
        }
        out.append(String.format("Landed     %s%,d: loaded %,d, rejected %,d, duplicates %,d%s%n", about, totals.landed(),
                totals.loaded(), totals.rejected(), totals.duplicates(), totals.pruned() == 0 ? ""
                        : String.format("; pruned %,d landing rows", totals.pruned())));
        if (runs.lastSuccessAt() != null || runs.lastFailure() != null) {
            out.append(String.format("Runs       the last run of load or serve that succeeded: %s%n",
                    ago(runs.lastSuccessAt())));
        }
        if (runs.consecutiveFailures() > 0 && runs.lastFailure() != null) {
            Failure f = runs.lastFailure();
            out.append(String.format("Failing    %d run(s) in a row; the last %s, by %s: %s%s%n", runs.consecutiveFailures(),
                    ago(f.failedAt()), Printable.of(f.caller()), f.sqlstate() == null ? "" : f.sqlstate() + " ",
                    Printable.of(f.message())));
        }
        if (checks.last() != null) {
            Check last = checks.last();
            out.append(String.format("Checked    %s %s: %s%n", last.covered(), ago(last.checkedAt()),
                    last.sound() ? "sound" : "DIFFERENT " + Printable.of(last.verdict())));
            Check unsound = checks.lastUnsound();
            if (unsound != null && unsound.checkId() != last.checkId()) {
                out.append(String.format("Different  the check of %s %s found: %s (run verify)%n", unsound.covered(),
                        ago(unsound.checkedAt()), Printable.of(unsound.verdict())));
            }
        }
        if (checks.changedDocuments() > 0) {
            out.append(String.format("Changed    %,d document(s) changed by hand since the last check (the next run"
                    + " checks them)%n", checks.changedDocuments()));
        }
        if (!lastBatches.isEmpty()) {
            out.append("Last batches\n");
            out.append(String.format("  %8s  %-9s %-25s %8s %6s %6s %8s %10s  %s%n",
                    "batch", "kind", "started", "ms", "taken", "loaded", "rejected", "duplicates", "caller"));
            for (Batch b : lastBatches) {
                out.append(String.format("  %8d  %-9s %-25s %8d %6d %6d %8d %10d  %s%n", b.batchId(), b.kind(),
                        b.startedAt().withNano(0), b.millis(), b.taken(), b.loaded(), b.rejected(), b.duplicates(),
                        Printable.of(b.caller())));
            }
        }
        if (!lastErrors.isEmpty()) {
            out.append("Last rejections (all in test_mv.load_errors)\n");
            for (Rejection e : lastErrors) {
                out.append(String.format("  document %d: %s%n", e.requestId(), Printable.of(e.reason())));
            }
        }
        return out.toString();
    }

    private static String ago(OffsetDateTime time) {
        return time == null ? "never" : human(Duration.between(time, OffsetDateTime.now())) + " ago";
    }

    private static String human(Duration duration) {
        long seconds = Math.max(0, duration.toSeconds());
        if (seconds < 120) {
            return seconds + " s";
        }
        if (seconds < 7200) {
            return seconds / 60 + " min";
        }
        return seconds < 172_800 ? seconds / 3600 + " h" : seconds / 86_400 + " days";
    }
}
