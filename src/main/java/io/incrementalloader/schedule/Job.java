package io.incrementalloader.schedule;

import java.util.function.Supplier;

/** A scheduled run: its outcome, and a way to cut it short when the scheduler stops. */
@FunctionalInterface
public interface Job extends Supplier<RunOutcome> {
    /** Ends the run in progress at once, if any (a statement waiting on a lock); safe from any thread. */
    default void cancel() {
    }
}
