package io.incrementalloader.cli;

import io.incrementalloader.UserError;

final class BatchOptions {
    static final String ASYNC_COMMIT_DESCRIPTION = "Commit each batch without waiting for its WAL to reach the disk"
            + " (synchronous_commit off for the loading session): faster at small batches (README, Performance); a"
            + " crash may undo the last batches, which the next run loads again, each once.";

    private BatchOptions() {
    }

    static void check(int batchSize) {
        if (batchSize < 1 || batchSize > 1_000_000) {
            throw new UserError("--batch-size must be between 1 and 1,000,000, not " + batchSize + ".");
        }
    }
}
