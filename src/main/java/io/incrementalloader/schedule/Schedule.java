package io.incrementalloader.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.incrementalloader.Durations;
import io.incrementalloader.UserError;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/** When runs are due: a standard 5-field cron expression, or a fixed interval. */
public interface Schedule {
    /** The first time strictly after {@code after} at which a run is due. */
    Instant next(Instant after);

    static Schedule cron(String expression, ZoneId zone) {
        ExecutionTime times;
        try {
            times = ExecutionTime.forCron(new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX))
                    .parse(expression));
        } catch (IllegalArgumentException e) {
            throw new UserError("--cron '" + expression + "' is not a 5-field cron expression (" + e.getMessage()
                    + "); for example '*/5 * * * *' runs every 5 minutes.");
        }
        if (times.nextExecution(java.time.ZonedDateTime.now(zone)).isEmpty()) {
            throw new UserError("--cron '" + expression + "' never fires (no such date in any year); for example"
                    + " '*/5 * * * *' runs every 5 minutes.");
        }
        return new Schedule() {
            @Override
            public Instant next(Instant after) {
                return times.nextExecution(after.atZone(zone)).orElseThrow(
                        () -> new IllegalStateException("'" + expression + "' has no time after " + after)).toInstant();
            }

            @Override
            public String toString() {
                return "cron '" + expression + "'";
            }
        };
    }

    static Schedule every(Duration interval) {
        return new Schedule() {
            @Override
            public Instant next(Instant after) {
                return after.plus(interval);
            }

            @Override
            public String toString() {
                return "every " + interval.toString().substring(2).toLowerCase();
            }
        };
    }

    /** The longest interval taken: a year and a day, beyond which a schedule is a typing mistake. */
    Duration LONGEST = Duration.ofDays(366);

    /** Reads a duration in the one format of every option (Durations), up to {@link #LONGEST}. */
    static Duration parseDuration(String text, String option) {
        return Durations.parse(text, option, LONGEST);
    }
}
