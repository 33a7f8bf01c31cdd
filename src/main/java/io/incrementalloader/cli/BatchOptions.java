package io.incrementalloader.cli;

import io.incrementalloader.UserError;

final class BatchOptions {
    private BatchOptions() {
    }

    static void check(int batchSize) {
        if (batchSize < 1 || batchSize > 1_000_000) {
            throw new UserError("--batch-size must be between 1 and 1,000,000, not " + batchSize + ".");
        }
    }
}
