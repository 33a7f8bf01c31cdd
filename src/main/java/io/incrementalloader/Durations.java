package io.incrementalloader;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration format of every option (and of the configuration file): a whole number and a unit, {@code ms},
 * {@code s}, {@code m}, {@code h}, {@code d} or {@code w} (500ms, 30s, 5m, 12h, 30d, 2w), or ISO-8601 (PT1H, P30D).
 */
public final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h|d|w)");

    private Durations() {
    }

    /** The duration, longer than zero and at most {@code longest}, or a user error naming the option. */
    public static Duration parse(String text, String option, Duration longest) {
        String given = text == null ? "" : text.trim();
        Matcher simple = SIMPLE.matcher(given);
        Duration duration;
        try {
            if (simple.matches()) {
                long amount = Long.parseLong(simple.group(1));
                duration = switch (simple.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    case "d" -> Duration.ofDays(amount);
                    default -> Duration.ofDays(Math.multiplyExact(amount, 7));
                };
            } else {
                duration = Duration.parse(given);
            }
        } catch (ArithmeticException | NumberFormatException e) { // a number past a long is too long, not unreadable
            throw new UserError(option + " '" + text + "' is longer than " + longest.toDays() + " days, the most it takes.");
        } catch (RuntimeException e) {
            throw new UserError(option + " '" + text + "' is not a duration; write it as 500ms, 30s, 5m, 12h, 30d, 2w"
                    + " or in ISO-8601 (PT1H).");
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new UserError(option + " must be longer than zero, not '" + text + "'.");
        }
        if (duration.compareTo(longest) > 0) {
            throw new UserError(option + " '" + text + "' is longer than " + longest.toDays() + " days, the most it takes.");
        }
        return duration;
    }
}
