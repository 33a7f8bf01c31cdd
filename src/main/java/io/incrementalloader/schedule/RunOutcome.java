package io.incrementalloader.schedule;

/** How one scheduled run ended. */
public enum RunOutcome {
    /** It loaded whatever was pending (possibly nothing). */
    DONE,
    /** Loading is paused (pause_loading): it took nothing. */
    PAUSED,
    /** It failed (the database went away, say); the scheduler retries once. */
    FAILED
}
