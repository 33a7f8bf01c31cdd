package io.incrementalloader.verify;

import io.incrementalloader.Elapsed;
import io.incrementalloader.generated.test_mv.Routines;
import io.incrementalloader.load.BatchFigures;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * The check after every run of {@code load} and {@code serve}: the documents the run's batches took and the rows
 * they wrote, and the documents changed by hand since the last check, are reconciled
 * ({@link Reconciliation#checkRun}); the verdict is kept in test_mv.run_checks, where {@code status} shows it.
 */
public final class RunCheck {
    /** What a check covered and found, and what it took. */
    public record Verdict(long firstBatchId, long lastBatchId, int changedDocuments,
                          List<Reconciliation.Difference> differences, double seconds) {
        public boolean sound() {
            return differences.isEmpty();
        }

        /** As the run history keeps it: "sound", or the differences. */
        public String text() {
            return sound() ? "sound" : differences.stream().map(Object::toString).collect(Collectors.joining(" | "));
        }

        /** What was checked, as a person reads it. */
        public String covered() {
            String batches = firstBatchId == 0 ? "" : "batches " + firstBatchId + "-" + lastBatchId;
            String changed = changedDocuments == 0 ? "" : changedDocuments + " document(s) changed by hand";
            return batches.isEmpty() || changed.isEmpty() ? batches + changed : batches + " and " + changed;
        }

        @Override
        public String toString() {
            return String.format("checked %s in %.2f s: %s", covered(), seconds, text());
        }
    }

    private RunCheck() {
    }

    /** Checks what a run did and records the verdict; null when there was nothing to check. */
    public static Verdict of(Connection connection, BatchFigures run) throws SQLException {
        long started = System.nanoTime();
        Reconciliation.RunFindings findings =
                Reconciliation.checkRun(connection, run.firstBatchId(), run.lastBatchId());
        if (run.batches() == 0 && findings.lastChangeId() == 0) {
            return null;
        }
        Verdict verdict = new Verdict(run.firstBatchId(), run.lastBatchId(), findings.changedDocuments(),
                findings.differences(), Elapsed.secondsSince(started));
        Routines.recordRunCheck(DSL.using(connection, SQLDialect.POSTGRES).configuration(),
                run.batches() == 0 ? null : run.firstBatchId(), run.batches() == 0 ? null : run.lastBatchId(),
                findings.lastChangeId(), findings.changedDocuments(), BigDecimal.valueOf(verdict.seconds()),
                verdict.text());
        return verdict;
    }
}
