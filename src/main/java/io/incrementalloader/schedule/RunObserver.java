package io.incrementalloader.schedule;

import io.incrementalloader.load.BatchFigures;

/** Hears what the runs of serve do, for metrics: each batch's duration, and each run's outcome and figures. */
public interface RunObserver {
    RunObserver NONE = new RunObserver() {
        @Override
        public void batch(double seconds) {
        }

        @Override
        public void run(RunOutcome outcome, BatchFigures figures) {
        }
    };

    void batch(double seconds);

    /** A run ended; figures are what its committed batches did (NONE for a run that took nothing). */
    void run(RunOutcome outcome, BatchFigures figures);
}
