package io.incrementalloader;

/** Seconds since a {@link System#nanoTime()} reading: the one way commands time what they do. */
public final class Elapsed {
    private Elapsed() {
    }

    public static double secondsSince(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }
}
