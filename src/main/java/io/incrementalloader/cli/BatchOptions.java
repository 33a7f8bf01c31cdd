package io.incrementalloader.cli;

import io.incrementalloader.UserError;

final class BatchOptions {
    static final String ASYNC_COMMIT_DESCRIPTION = "Commit each batch without waiting for its WAL to reach the disk"
            + " (synchronous_commit off for the loading session): faster at small batches (README, Performance); a"
            + " crash may undo the last batches, which the next run loads again, each once.";

    static final String WORKERS_DESCRIPTION = "Connections that load at once (default 1), each a lane at a time"
            + " that no other caller holds: up to the server's cores (README, Performance).";

    /** More workers than lanes would find no lane to take. */
    static final int MAX_WORKERS = 16;

    private BatchOptions() {
    }

    static void checkWorkers(int workers) {
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new UserError("--workers must be between 1 and " + MAX_WORKERS + " (the lanes), not " + workers + ".");
        }
    }

    static void check(int batchSize) {
        if (batchSize < 1 || batchSize > 1_000_000) {
            throw new UserError("--batch-size must be between 1 and 1,000,000, not " + batchSize + ".");
        }
    }
}
