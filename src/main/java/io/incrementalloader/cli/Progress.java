package io.incrementalloader.cli;

import java.io.PrintStream;

/**
 * A one-line progress display on a terminal, for work that lasts more than a couple of seconds. Silent when the
 * output is not a terminal (pipes, CI), so logs stay clean.
 */
final class Progress implements AutoCloseable {
    private static final long QUIET_MILLIS = 2_000;
    private static final long EVERY_MILLIS = 500;

    private final PrintStream out = System.err;
    private final boolean enabled = System.console() != null;
    private final long started = System.currentTimeMillis();
    private final String what;
    private long shownAt;
    private boolean shown;

    Progress(String what) {
        this.what = what;
    }

    void show(long count) {
        long now = System.currentTimeMillis();
        if (!enabled || now - started < QUIET_MILLIS || now - shownAt < EVERY_MILLIS) {
            return;
        }
        shownAt = now;
        shown = true;
        double seconds = (now - started) / 1000.0;
        out.printf("\r%s: %,d documents, %.0f/s   ", what, count, count / seconds);
        out.flush();
    }

    @Override
    public void close() {
        if (shown) {
            out.print("\r\033[K");
            out.flush();
        }
    }
}
