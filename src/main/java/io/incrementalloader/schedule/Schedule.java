package io.incrementalloader.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.incrementalloader.UserError;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** Reads durations such as 500ms, 1s, 5m, 1h or ISO-8601 (PT30S), up to {@link #LONGEST}. */
    static Duration parseDuration(String text, String option) {
        Matcher simple = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.trim());
        Duration duration;
        if (simple.matches()) {
            try {
                long amount = Long.parseLong(simple.group(1));
                duration = switch (simple.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            } catch (ArithmeticException | NumberFormatException e) {
                throw new UserError(option + " '" + text + "' is longer than " + LONGEST.toDays() + " days, the most it takes.");
            }
        } else {
            try {
                duration = Duration.parse(text.trim());
            } catch (RuntimeException e) {
                throw new UserError(option + " '" + text + "' is not a duration; write it as 500ms, 1s, 5m or 1h.");
            }
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new UserError(option + " must be longer than zero, not '" + text + "'.");
        }
        if (duration.compareTo(LONGEST) > 0) {
            throw new UserError(option + " '" + text + "' is longer than " + LONGEST.toDays() + " days, the most it takes.");
        }
        return duration;
    }
}
