package io.incrementalloader.verify;

import io.incrementalloader.generated.test_mv.Routines;
import io.incrementalloader.load.BatchFigures;
import java.math.BigDecimal;
import java.sql.Connection;
import java.util.List;
import java.util.stream.Collectors;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * The check after every run of {@code load} and {@code serve}: the documents the run's batches took and the rows
 * they wrote, and the documents changed by hand since the last check, are reconciled
 * ({@link Reconciliation#checkRun}, in chunks while the run loads: {@link RunChecker}); the verdict is kept in
 * test_mv.run_checks, where {@code status} shows it.
 */
public final class RunCheck {
    /**
     * What a check covered and found; the seconds it took in all, and those of them the run waited for after its
     * load (the rest ran while it loaded, {@link RunChecker}).
     */
    public record Verdict(long firstBatchId, long lastBatchId, int changedDocuments,
                          List<Reconciliation.Difference> differences, double seconds, double afterLoadSeconds) {
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
            return String.format("checked %s in %.2f s (%.2f s after the load): %s", covered(), seconds,
                    afterLoadSeconds, text());
        }
    }

    private RunCheck() {
    }

    /** Records a run's verdict in test_mv.run_checks, and marks the changed documents it took in as checked. */
    static Verdict record(Connection connection, BatchFigures run, Reconciliation.RunFindings findings,
                          List<Reconciliation.Difference> differences, double seconds, double afterLoadSeconds) {
        Verdict verdict = new Verdict(run.firstBatchId(), run.lastBatchId(), findings.changedDocuments(),
                List.copyOf(differences), seconds, afterLoadSeconds);
        Routines.recordRunCheck(DSL.using(connection, SQLDialect.POSTGRES).configuration(),
                run.batches() == 0 ? null : run.firstBatchId(), run.batches() == 0 ? null : run.lastBatchId(),
                findings.lastChangeId(), findings.changedDocuments(), BigDecimal.valueOf(seconds), verdict.text(),
                findings.snapshot());
        return verdict;
    }
}
