package io.incrementalloader.verify;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.UserError;
import io.incrementalloader.load.BatchFigures;
import io.incrementalloader.load.RunHealth;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The fields a log line of a run carries, under the same names for `load` and `serve`, so that a log collector reads
 * them as numbers (FlatJsonEncoder): documents, batches, loaded, rejected, duplicates, phones, addresses, products,
 * seconds; check, checkSeconds, checkSecondsAfterLoad; for a failure, sqlstate and kind.
 */
public final class RunLog {
    private RunLog() {
    }

    public static LoggingEventBuilder withFigures(LoggingEventBuilder line, BatchFigures figures, double seconds) {
        return line.addKeyValue("documents", figures.taken()).addKeyValue("batches", figures.batches())
                .addKeyValue("loaded", figures.loaded()).addKeyValue("rejected", figures.rejected())
                .addKeyValue("duplicates", figures.duplicates()).addKeyValue("phones", figures.phones())
                .addKeyValue("addresses", figures.addresses()).addKeyValue("products", figures.products())
                .addKeyValue("seconds", seconds);
    }

    public static LoggingEventBuilder withVerdict(LoggingEventBuilder line, RunCheck.Verdict verdict) {
        return line.addKeyValue("check", verdict.sound() ? "sound" : "different")
                .addKeyValue("checkSeconds", verdict.seconds())
                .addKeyValue("checkSecondsAfterLoad", verdict.afterLoadSeconds());
    }

    /**
     * A failure's SQLSTATE (null when it has none) and its kind: environment (EnvironmentFailure: disk, timeouts,
     * connections, the circuit breaker), user (a mistake or a target it cannot work on), or bug.
     */
    public static LoggingEventBuilder withFailure(LoggingEventBuilder line, Throwable failure) {
        return line.addKeyValue("sqlstate", RunHealth.sqlState(failure)).addKeyValue("kind", kind(failure));
    }

    public static String kind(Throwable failure) {
        if (failure instanceof EnvironmentFailure || EnvironmentFailure.describe(failure).isPresent()) {
            return "environment";
        }
        return failure instanceof UserError ? "user" : "bug";
    }
}
